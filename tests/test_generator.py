"""Checklists from notices: the five reviewed files and the generator itself."""

import re
from pathlib import Path

import pytest

from checklists import (
    NotAFieldCampaign,
    checkable_units,
    clean_text,
    derive_prefix,
    draft_from_text,
    dump_draft,
    dump_yaml,
    generate,
    parse_notice,
)
from checklists.rules import ORGANISATIONAL, QUESTION_RULES, organisational, question_for
from inspect_app.campaigns.checklist_file import read_checklist
from inspect_app.domain import SITE_TYPES

ROOT = Path(__file__).resolve().parents[1]
NOTICES = ROOT.parent / "shared" / "campaigns"
CHECKLISTS = ROOT / "checklists"
DATA = Path(__file__).resolve().parent / "data"

CAMPAIGNS = {
    "hazchem-2025": ("HC", 40),
    "recycling-2025": ("RC", 10),
    "refined-oil-2025": ("RO", 10),
    "sand-gravel-2024": ("SG", 10),
    "placer-gold-2024": ("PG", 6),
}


def _enum(path: str, count: int) -> list[str]:
    return [path + n + "是" for n in "一二三四五六七八九十"[:count]]


# The clauses that ask for something an inspector can check, read off each notice
# by hand. 目标 / 组织 / 分工 / 时间 / 要求 sections are not among them; the one
# exception is the 打击重点 list inside sand-gravel's 集中整治阶段.
CHECKABLE = {
    "hazchem-2025": (
        _enum("二（一）1", 4)
        + _enum("二（一）2", 5)
        + _enum("二（二）3", 5)
        + _enum("二（二）4", 3)
        + _enum("二（二）5", 2)
        + _enum("二（二）6", 5)
        + ["二（二）7"]
        + _enum("二（二）8", 3)
        + _enum("二（二）9", 3)
        + _enum("二（二）10", 2)
        + _enum("二（二）11", 3)
        + _enum("二（二）12", 4)
        + _enum("二（三）13", 3)
        + _enum("二（三）14", 3)
    ),
    "refined-oil-2025": [f"二（{n}）" for n in "一二三四五"],
    "recycling-2025": [f"三（{n}）" for n in "一二三四五六七"],
    "sand-gravel-2024": [f"三（{n}）" for n in "一二三四五"] + ["六（二）一是"],
    "placer-gold-2024": ["四（二）", "四（三）"] + _enum("四（三）", 4),
}

_CLEAN: dict = {}


def cleaned(name: str) -> str:
    if name not in _CLEAN:
        _CLEAN[name] = clean_text((NOTICES / name).read_text(encoding="utf-8"), name)
    return _CLEAN[name]


_FILES: dict = {}


def checklist(code: str) -> dict:
    if code not in _FILES:
        _FILES[code] = read_checklist(CHECKLISTS / f"{code}.yaml")
    return _FILES[code]


# ---------------------------------------------------------------- the five files


@pytest.mark.parametrize("code", sorted(CAMPAIGNS))
def test_every_basis_is_found_in_its_notice(code):
    data = checklist(code)
    assert data["campaign"]["notice"] == f"{code}.txt"
    text = cleaned(data["campaign"]["notice"])
    missing = [item["code"] for item in data["items"] if item["basis"] not in text]
    assert missing == []


@pytest.mark.parametrize("code", sorted(CAMPAIGNS))
def test_every_checkable_clause_has_an_item(code):
    clauses = {item["clause"] for item in checklist(code)["items"]}
    uncovered = [path for path in CHECKABLE[code] if path not in clauses]
    assert uncovered == []


@pytest.mark.parametrize("code", sorted(CAMPAIGNS))
def test_no_item_comes_from_boilerplate(code):
    allowed = set(CHECKABLE[code])
    stray = [
        (item["code"], item["clause"])
        for item in checklist(code)["items"]
        if item["clause"] not in allowed
    ]
    assert stray == []
    for item in checklist(code)["items"]:
        assert not re.search(r"组织领导|工作要求|保障措施|职责分工|责任分工", item["section"])


@pytest.mark.parametrize("code", sorted(CAMPAIGNS))
def test_sizes_and_codes(code):
    prefix, minimum = CAMPAIGNS[code]
    items = checklist(code)["items"]
    assert len(items) >= minimum
    assert [item["code"] for item in items] == [
        f"{prefix}-{k:02d}" for k in range(1, len(items) + 1)
    ]


@pytest.mark.parametrize("code", sorted(CAMPAIGNS))
def test_items_are_questions_with_valid_fields(code):
    data = checklist(code)
    departments = {d["name"] for d in data["campaign"]["departments"]}
    for item in data["items"]:
        assert item["text"].endswith("？") and "？" not in item["text"][:-1], item["code"]
        assert re.search(r"是否|能否", item["text"]), item["code"]
        assert len(item["text"]) <= 80, item["code"]
        assert set(item["site_types"]) <= set(SITE_TYPES)
        lead = item["lead_department"]
        assert lead in departments or lead == data["campaign"]["lead_office"], item["code"]


def test_campaign_metadata_matches_the_notice():
    data = checklist("refined-oil-2025")["campaign"]
    assert data["name"] == "2025年格尔木市成品油市场专项整治行动工作方案"
    assert data["document_no"] == "格政办发〔2025〕30号"
    assert str(data["issued_on"]) == "2025-04-25"
    assert data["deadline_days"] == {"general": 7, "key": 30}
    assert len(data["departments"]) == 11


def test_hazchem_regulators_and_item_10():
    items = checklist("hazchem-2025")["items"]
    by_clause: dict[str, set] = {}
    for item in items:
        by_clause.setdefault(re.sub(r"[一二三四五]是$", "", item["clause"]), set()).update(
            item["site_types"]
        )
    # sections 1 and 2 hold the regulators to account, next to enterprise checks
    assert "监管部门" in by_clause["二（一）1"] and "危险化学品企业" in by_clause["二（一）1"]
    assert "监管部门" in by_clause["二（一）2"]
    # item 10: 再生资源回收 and 成品油销售
    assert by_clause["二（二）10"] == {"再生资源回收站点", "加油站"}
    station = [i for i in items if i["clause"] == "二（二）10二是"]
    assert all(i["text"].startswith("加油站") for i in station)
    assert all(i["lead_department"] == "市工业信息化和科技局" for i in station)


def test_refined_oil_licences_are_separate_key_items():
    items = checklist("refined-oil-2025")["items"]
    licences = [i for i in items if i["clause"] == "二（三）" and "《" in i["text"]]
    assert [i["text"] for i in licences] == [
        "是否取得应急管理部门颁发的《危险化学品经营许可证》？",
        "是否取得市场监管部门颁发的《营业执照》？",
        "是否取得《成品油零售经营批准证书》？",
    ]
    assert {i["default_severity"] for i in licences} == {"key"}
    assert {tuple(i["site_types"]) for i in licences} == {("加油站",)}


def test_recycling_clause_asking_three_things_gives_three_items():
    items = [i for i in checklist("recycling-2025")["items"] if i["clause"] == "三（二）"]
    assert len(items) == 3
    assert {i["basis"] for i in items} == {
        "再生资源回收站点设置是否符合规定，证照是否齐全，制度张贴是否齐全"
    }


def test_severity_follows_illegality_and_paperwork():
    sand = checklist("sand-gravel-2024")["items"]
    assert all(i["default_severity"] == "key" for i in sand if i["clause"] == "三（一）")
    placer = checklist("placer-gold-2024")["items"]
    assert next(i for i in placer if "采金装置" in i["text"])["default_severity"] == "key"
    recycling = checklist("recycling-2025")["items"]
    register = next(i for i in recycling if i["clause"] == "三（六）")
    assert register["default_severity"] == "general" and not register["photo_required"]


# -------------------------------------------------------- the generator, unreviewed


@pytest.mark.parametrize("code", sorted(CAMPAIGNS))
def test_generator_output_on_the_real_notices(code):
    name = f"{code}.txt"
    notice = parse_notice((NOTICES / name).read_text(encoding="utf-8"), str(NOTICES / name))
    data = generate(notice, code).checklist()
    prefix, minimum = CAMPAIGNS[code]
    assert len(data["items"]) >= minimum
    assert all(item["code"].startswith(prefix + "-") for item in data["items"])
    assert all(item["basis"] in notice.text for item in data["items"])
    assert {path for path in CHECKABLE[code]} <= {item["clause"] for item in data["items"]}
    assert {u.path for u in checkable_units(notice)} == set(CHECKABLE[code])
    assert data["campaign"]["notice"] == name


def test_generator_splits_the_ways_a_clause_asks_several_things():
    path = NOTICES / "hazchem-2025.txt"
    data = generate(
        parse_notice(path.read_text(encoding="utf-8"), path.name), "hazchem-2025"
    ).checklist()
    station = [i["text"] for i in data["items"] if i["clause"] == "二（二）10二是"]
    # 是否…；是否…；是否…: each question, with the subject 加油站 carried over
    assert station == [
        "加油站是否建立安全生产管理体系，并有效运行？",
        "加油站是否开展定期隐患排查治理？",
        "加油站是否开展全员安全教育培训？",
        "加油站是否定期开展应急预案演练？",
        "加油站油品泄露检测报警设施是否完好在用？",
    ]
    leads = {i["clause"]: i["lead_department"] for i in data["items"]}
    assert leads["二（二）6五是"] == "市能源局"
    assert leads["二（一）1一是"] == "市安委办"  # no 牵头 note and no 职责分工: the lead office


# ----------------------------------------------------------- a notice never seen


@pytest.fixture(scope="module")
def dust():
    raw = (DATA / "dust-control-2025.txt").read_text(encoding="utf-8")
    notice = parse_notice(raw, "dust-control-2025.txt")
    return notice, generate(notice, "dust-control-2025").checklist()


def test_unseen_notice_gets_a_derived_prefix_and_covers_its_clauses(dust):
    notice, data = dust
    assert derive_prefix("dust-control-2025") == "DC"
    items = data["items"]
    assert [i["code"] for i in items] == [f"DC-{k:02d}" for k in range(1, len(items) + 1)]
    expected = [
        "二1（1）",
        "二1（2）",
        "二2（1）",
        "二2（2）",
        "二3一是",
        "二3二是",
        "二3三是",
        "二4（1）",
        "二4（2）",
        "三",  # 责任分工: each department's duties that the tasks do not already ask
    ]
    assert sorted({i["clause"] for i in items}) == sorted(expected)
    duties = {i["lead_department"]: i["text"] for i in items if i["clause"] == "三"}
    assert duties == {
        "市综合行政执法局": "渣土运输车辆是否存在带泥上路、沿途撒漏行为？",
        "市自然资源局": "砂石料场、洗砂场是否存在无证开采和洗砂行为？",
    }
    assert all(i["basis"] in notice.text for i in items)
    assert data["campaign"]["stages"][2] == {
        "name": "巩固提升阶段",
        "starts_on": notice.stages[2].starts_on,
        "ends_on": notice.stages[2].ends_on,
    }


def test_unseen_notice_items(dust):
    _, data = dust
    by_clause: dict[str, list] = {}
    for item in data["items"]:
        by_clause.setdefault(item["clause"], []).append(item)

    fence = by_clause["二1（1）"]
    assert [i["text"] for i in fence] == [
        "施工现场是否按规定设置连续、封闭的硬质围挡？",
        "围挡高度是否符合要求？",
        "围挡是否存在破损？",
    ]
    assert all(i["site_types"] == ["建筑工地"] and i["photo_required"] for i in fence)
    assert all(i["default_severity"] == "general" for i in fence)

    banned = by_clause["二2（2）"]  # 严禁…；严禁…
    assert len(banned) == 2 and all(i["default_severity"] == "key" for i in banned)
    assert banned[1]["basis"] == "严禁从高处凌空抛掷建筑垃圾"

    licences = by_clause["二3一是"]
    assert [i["text"] for i in licences] == [
        "是否持有《城市建筑垃圾处置核准证》？",
        "是否持有《道路运输经营许可证》？",
    ]
    # the clause's 牵头 note decides the lead; elsewhere the 责任分工 table does
    assert {i["lead_department"] for i in by_clause["二3三是"]} == {"市住房和城乡建设局"}
    assert {i["lead_department"] for i in by_clause["二4（1）"]} == {"市自然资源局"}
    assert by_clause["二4（1）"][0]["site_types"] == ["砂石场", "洗砂场"]
    washing = by_clause["二4（2）"][0]
    assert washing["text"] == "是否存在无证洗砂、私设洗砂点等违法行为？"
    assert washing["site_types"] == ["洗砂场"] and washing["default_severity"] == "key"
    ledger = by_clause["二3三是"][0]
    assert ledger["default_severity"] == "general" and not ledger["photo_required"]


def test_dump_yaml_reads_back_as_the_same_checklist(dust, tmp_path):
    _, data = dust
    text = dump_yaml(data)
    assert "- {name: 自查自纠阶段, starts_on: 2025-05-25, ends_on: 2025-06-10}" in text
    assert "site_types: [建筑工地]" in text
    assert "\\u" not in text
    path = tmp_path / "dust-control-2025.yaml"
    path.write_text(text, encoding="utf-8")
    assert read_checklist(path, notice_dir=DATA) == data


def test_notice_with_nothing_to_check():
    raw = """格尔木市人民政府办公室
关于印发测试工作方案的通知
格政办发〔2025〕99号
2025年6月1日
测试工作方案
领导小组办公室设在市商务局。
一、工作目标
提高认识。
二、工作要求
加强领导。
"""
    notice = parse_notice(raw, "empty.txt")
    with pytest.raises(NotAFieldCampaign) as caught:
        generate(notice, "empty-2025")
    assert str(caught.value).startswith("empty.txt:7: ")
    assert caught.value.message.count("。") == 1
    assert "不是现场检查的专项整治" in caught.value.message


# ------------------------------------------------- drafts against the reviewed files

_DRAFTS: dict = {}


def draft(code: str):
    if code not in _DRAFTS:
        path = NOTICES / f"{code}.txt"
        _DRAFTS[code] = generate(parse_notice(path.read_text(encoding="utf-8"), path.name), code)
    return _DRAFTS[code]


def covered_share(code: str) -> float:
    """Share of the reviewed items that a generated item covers.

    The matching rule: a reviewed item is covered when a generated item cites the
    same clause (``clause``, e.g. 二（三） or 四（三）二是) and has the same lead
    department, written exactly alike. Wording is not compared: reviewers rewrite
    it; the clause and the department are what a wrong draft gets wrong.
    """
    generated = {(i["clause"], i["lead_department"]) for i in draft(code).items}
    reviewed = checklist(code)["items"]
    return sum((r["clause"], r["lead_department"]) in generated for r in reviewed) / len(reviewed)


@pytest.mark.parametrize("code", sorted(CAMPAIGNS))
def test_draft_covers_the_reviewed_checklist(code):
    # Measured: hazchem 70/70, placer gold 8/8, recycling 13/13, refined oil 16/17,
    # sand and gravel 14/14.
    assert covered_share(code) >= 0.8


# What no item may be: a law list, an organisational directive, a deadline.
_JUNK = re.compile(
    r"^是否《[^》]+》(?:[、，]《[^》]+》)*(?:等)?？$|完成时限|完成时间：|^是否各(?:成员)?单位要|"
    r"畅通举报|广泛宣传|召开[^？]{0,10}会议|成立[^？]{0,20}领导小组|长效机制？|报送[^？]*总结"
)


@pytest.mark.parametrize("code", sorted(CAMPAIGNS) + ["eco-inspection-2025"])
def test_no_item_is_a_law_list_an_organisational_task_or_a_deadline(code):
    junk = [i["text"] for i in draft(code).items if _JUNK.search(i["text"])]
    assert junk == []


@pytest.mark.parametrize("code", sorted(CAMPAIGNS) + ["eco-inspection-2025"])
def test_every_draft_basis_is_verbatim_and_every_item_a_question(code):
    made = draft(code)
    for item in made.items:
        assert item["basis"] in made.notice.text, item["code"]
        assert item["text"].endswith("？") and ("是否" in item["text"] or "能否" in item["text"])
        assert not item["text"].startswith("是否是否")


def test_eco_inspection_gives_a_usable_draft():
    made = draft("eco-inspection-2025")
    assert made.summary.items == len(made.items) >= 30
    assert made.missing == []
    # Its 工作内容 section holds the checks, every subsection gives items.
    assert {i["clause"][:4] for i in made.items} >= {f"五（{n}）" for n in "一二三四五"}
    assert all(i["lead_department"] for i in made.items)
    assert made.summary.regulator_only <= len(made.items) // 10
    # The sections that are not checks are said to be left out, with a reason.
    assert {e.clause for e in made.excluded} >= {"一", "二", "四", "六"}
    assert all(e.reason for e in made.excluded)


def test_summary_counts_what_the_draft_holds():
    made = draft("refined-oil-2025")
    summary = made.summary
    assert summary.items == len(made.items)
    assert summary.excluded == len(made.excluded)
    assert summary.regulator_only == sum(i["site_types"] == ["监管部门"] for i in made.items)
    assert summary.sentence.startswith(f"草稿共{summary.items}个检查项")
    assert summary.sentence.count("。") == 1
    # 健全完善…长效机制 in 二（五） is listed, not asked.
    assert any(e.clause == "二（五）" and "长效机制" in e.reason for e in made.excluded)


OTHER = ROOT.parent / "shared" / "notices-other"


@pytest.mark.parametrize("name", ["clean-energy-2024", "quinoa-subsidy-2024"])
def test_notices_that_are_no_field_campaign_are_told_so(name):
    raw = (OTHER / f"{name}.txt").read_text(encoding="utf-8")
    with pytest.raises(NotAFieldCampaign) as caught:
        draft_from_text(raw, "other-2024", source=f"{name}.txt")
    message = caught.value.message
    assert "不是现场检查的专项整治" in message
    assert message.count("。") == 1 and message.endswith("。")


_SMALL = """格尔木市人民政府办公室
关于印发测试工作方案的通知
格政办发〔2025〕99号
2025年6月1日
测试工作方案
"""


def test_duties_only_notice_gives_items_led_by_each_department():
    raw = _SMALL + (
        "一、工作目标\n提高认识。\n"
        "二、职责分工\n"
        "市公安局：负责查处非法运输危险化学品行为。\n"
        "市交通运输局：负责查处无证成品油运输车辆。车辆须持有《道路运输证》。\n"
        "市应急管理局：牵头负责专项行动的组织协调。负责检查加油站消防设施。\n"
    )
    made = draft_from_text(raw, "duties-2025")
    items = [(i["clause"], i["lead_department"], i["text"]) for i in made.items]
    assert (
        items
        == [
            ("二", "市公安局", "是否存在非法运输危险化学品行为？"),
            ("二", "市交通运输局", "是否存在无证成品油运输车辆？"),
            ("二", "市交通运输局", "车辆是否持有《道路运输证》？"),
            ("二", "市应急管理局", "是否检查加油站消防设施？"),
        ]
        or items
    )
    assert made.notice.lead_office == "市应急管理局"
    assert all(i["basis"] in made.notice.text for i in made.items)


def test_attachment_table_rows_are_items():
    raw = _SMALL + (
        "领导小组办公室设在市住房和城乡建设局。\n"
        "一、整治重点\n（一）排查餐饮场所燃气安全隐患。对照附件1逐项检查。\n"
        "二、工作要求\n（一）加强领导。\n"
        "附件1\n餐饮场所燃气安全检查表\n序号\t检查项目\t检查内容\n"
        "1\t燃气软管\t是否超过使用年限，长度是否超过2米\n"
        "2\t防火门\t常闭，无遮挡\n"
        "3\t消火栓\t是否有水\n"
        "附件2\n联系人信息表\n单位\t姓名\t电话\n"
    )
    made = draft_from_text(raw, "gas-2025")
    rows = [i["text"] for i in made.items if i["clause"] == "附件1"]
    assert rows == [
        "燃气软管是否超过使用年限？",
        "燃气软管长度是否超过2米？",
        "防火门是否常闭，无遮挡？",
        "消火栓是否有水？",
    ]
    assert all(i["basis"] in made.notice.text for i in made.items)
    left_out = {e.clause: e.reason for e in made.excluded}
    assert "附件2" in left_out and "检查表" in left_out["附件2"]
    assert "附件" in left_out["一（一）"]  # 对照附件1逐项检查 points at the table


@pytest.mark.parametrize("rule", QUESTION_RULES, ids=lambda r: r.name)
def test_each_question_rule_turns_its_example_into_its_question(rule):
    assert rule.ask(rule.example) == rule.question
    assert question_for(rule.example) == rule.question  # no earlier row takes it


@pytest.mark.parametrize("row", ORGANISATIONAL, ids=lambda r: r.reason)
def test_each_organisational_row_leaves_its_example_out(row):
    assert organisational(row.example) is row


def test_a_long_question_keeps_the_clause_that_asks():
    made = draft("eco-inspection-2025")
    vocs = [i for i in made.items if i["clause"] == "五（一）1" and "VOCs" in i["basis"]]
    assert vocs and all(i["text"].count("是否") >= 1 for i in vocs)
    assert any(i["text"] == "企业源头控制、过程管理及末端治理是否有效？" for i in vocs)


def test_a_draft_names_the_parts_the_notice_lacks_and_still_comes_out():
    raw = (NOTICES / "refined-oil-2025.txt").read_text(encoding="utf-8")
    without = re.sub(r"格政办发〔2025〕30\s*号\n", "", raw)
    assert without != raw
    made = draft_from_text(without, "refined-oil-2025")
    assert made.campaign["document_no"] == ""
    assert [m[:4] for m in made.missing] == ["发文字号"]
    assert "通知中未找到：发文字号" in made.summary.sentence
    assert len(made.items) == len(draft("refined-oil-2025").items)


@pytest.mark.parametrize("code", sorted(CAMPAIGNS) + ["eco-inspection-2025"])
def test_draft_yaml_is_a_checklist_file_whose_bases_are_in_the_notice(code, tmp_path):
    made = draft(code)
    path = tmp_path / f"{code}.yaml"
    path.write_text(dump_draft(made), encoding="utf-8")
    assert path.read_text(encoding="utf-8").startswith(f"# {made.summary.sentence}\n")
    read = read_checklist(path, NOTICES)
    assert [i["text"] for i in read["items"]] == [i["text"] for i in made.items]
