"""The notice parser on the real campaign notices and on malformed input."""

import re
from datetime import date
from pathlib import Path

import pytest

from checklists import NoticeError, clause_citation, clean_text, parse_notice

NOTICES = Path(__file__).resolve().parents[1].parent / "shared" / "campaigns"
DATA = Path(__file__).resolve().parent / "data"


def _raw(name: str) -> str:
    return (NOTICES / f"{name}.txt").read_text(encoding="utf-8")


_PARSED: dict = {}


def notice(name: str):
    if name not in _PARSED:
        _PARSED[name] = parse_notice(_raw(name), f"{name}.txt")
    return _PARSED[name]


# Read off the notices by hand: the 通知 header gives number and date, the
# 时间安排 / 实施步骤 section the stages (years the notice leaves out are the
# year of the notice).
EXPECTED = {
    "hazchem-2025": (
        "格政办发〔2025〕28号",
        "格尔木市危险化学品安全生产专项整治年实施方案",
        date(2025, 4, 17),
        [
            ("安排部署", date(2025, 1, 1), date(2025, 3, 31)),
            ("集中治理", date(2025, 3, 1), date(2025, 11, 30)),
            ("总结验收", date(2025, 12, 1), date(2025, 12, 31)),
        ],
    ),
    "recycling-2025": (
        "格政办发〔2025〕29号",
        "2025年全市再生资源回收行业联合整治的工作方案",
        date(2025, 4, 22),
        [
            ("排查摸底阶段", date(2025, 4, 30), date(2025, 5, 30)),
            ("集中整治阶段", date(2025, 5, 30), date(2025, 8, 30)),
            ("巩固提升阶段", date(2025, 8, 30), date(2025, 9, 30)),
        ],
    ),
    "refined-oil-2025": (
        "格政办发〔2025〕30号",
        "2025年格尔木市成品油市场专项整治行动工作方案",
        date(2025, 4, 25),
        [
            ("动员部署、排查摸底阶段", date(2025, 4, 30), date(2025, 6, 30)),
            ("依法查处、集中整治阶段", date(2025, 7, 30), date(2025, 9, 30)),
        ],
    ),
    "sand-gravel-2024": (
        "格政办发〔2024〕63号",
        "格尔木市砂石行业“亮剑”专项整治行动工作方案",
        date(2024, 7, 2),
        [
            ("调查摸底阶段", date(2024, 6, 24), date(2024, 7, 5)),
            ("集中整治阶段", date(2024, 7, 6), date(2024, 8, 9)),
            ("总结提高阶段", date(2024, 8, 10), date(2024, 8, 15)),
        ],
    ),
    "placer-gold-2024": (
        "格政办发〔2024〕69号",
        "格尔木市打击盗采砂金专项整治行动工作方案",
        date(2024, 7, 19),
        [("专项整治行动", date(2024, 7, 1), date(2024, 10, 31))],
    ),
    "eco-inspection-2025": (
        "格政办发〔2025〕32号",
        "格尔木市生态环境高水平保护服务经济社会高质量发展行动方案",
        date(2025, 4, 27),
        [
            ("梳理准备阶段", date(2025, 4, 20), date(2025, 4, 30)),
            ("全面排查阶段", date(2025, 5, 6), date(2025, 7, 15)),
            ("集中整治阶段", date(2025, 7, 16), date(2025, 8, 8)),
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_header_title_and_stages(name):
    document_no, title, issued_on, stages = EXPECTED[name]
    parsed = notice(name)
    assert parsed.document_no == document_no
    assert parsed.title == title
    assert parsed.issued_on == issued_on
    assert [(s.name, s.starts_on, s.ends_on) for s in parsed.stages] == stages


@pytest.mark.parametrize(
    ("name", "lead"),
    [
        ("hazchem-2025", "市安委办"),  # 市安委办负责指导和综合协调
        ("recycling-2025", "市工业信息化和科技局"),  # 牵头制定工作实施方案
        ("refined-oil-2025", "市工业信息化和科技局"),  # reports go to its 商务科
        ("sand-gravel-2024", "市自然资源局"),  # 领导小组办公室设在市自然资源局
        ("placer-gold-2024", "市自然资源局"),  # 牵头负责专项行动的组织协调
    ],
)
def test_lead_office(name, lead):
    assert notice(name).lead_office == lead


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_doubled_bold_is_printed_once(name):
    text = notice(name).text
    doubled = [m.group(0) for m in re.finditer(r"(.{2,}?)\1", text) if not m.group(1).isdigit()]
    assert doubled == []
    assert "一是一是" not in text and "是是" not in text


def test_hazchem_doubling_variants_are_undone():
    text = notice("hazchem-2025").text
    # whole line doubled, and the lead note split over two lines
    assert "3.生产方面存在的重大安全风险。一是开展“五室”" in text
    assert "（市应急管理局牵头落实）\n4.储存方面" in text
    # 五是 doubled as 五五 at a line end and 是是 at the next line's start
    assert "长效机制。五是督促企业开展危险岗位应急处置能力" in text
    # the second copy lost its opening bracket: （…落实）…落实）
    assert text.count("（各相关成员单位分工落实）") == 4
    assert "落实）各相关成员单位" not in text
    # the note whose halves straddle several lines keeps every department
    assert (
        "（市交通运输局牵头，市公安局、住房和城乡建设局、应急管理局、综合执法局配合负责第一至四项工作落实；市能源局牵头第五项工作落实）"
        in text
    )  # noqa: E501
    assert "市应急管理局、市市场监督管理局分工落实）" in text


def test_legitimate_repetitions_survive():
    assert "层层传导压力" in notice("refined-oil-2025").text
    assert "“一次违法、处处受限”" in notice("refined-oil-2025").text
    hazchem = notice("hazchem-2025").text
    assert "2025年年底前，所有涉及氯化装置" in hazchem
    assert "市市场监督管理局" in hazchem
    assert "紧紧围绕全市安全生产治本攻坚三年行动" in hazchem


@pytest.mark.parametrize("name", ["refined-oil-2025", "hazchem-2025"])
def test_mid_text_header_is_removed(name):
    text = notice(name).text
    for header_part in (
        "格政办发",
        "各行政委员会，市政府各局",
        "现印发给你们",
        "格尔木市人民政府办公室",
    ):
        assert header_part not in text
    assert "关于印发成品油市场专项整治行动工作方案的通知" not in text
    assert "关于印发危险化学品安全生产专项整治年实施方案的通知" not in text


def test_header_removal_rejoins_the_interrupted_sentence():
    text = notice("refined-oil-2025").text
    assert "取缔不符合条件的自备油罐，对于符合条件的纳入常规监管。" in text
    hazchem = notice("hazchem-2025").text
    assert "（一）重点排查两类突出问题。\n1.安全发展理念不牢问题。一是学习贯彻" in hazchem


def test_words_broken_over_lines_are_joined():
    text = notice("refined-oil-2025").text
    assert (
        "商务主管部门颁发的《成品油零售经营批准证书》，擅自销售成品油的窝点一律予以查处。" in text
    )
    assert "（4月30至6月30日）" in text
    # Latin words keep the space between them; nothing else is rewritten
    assert "遵守保密制度和Work纪律" in notice("placer-gold-2024").text


def test_clean_text_is_the_notice_text():
    raw = _raw("sand-gravel-2024")
    assert clean_text(raw) == parse_notice(raw).text


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_clause_is_found_verbatim_in_the_cleaned_notice(name):
    parsed = notice(name)
    clauses = list(parsed.walk())
    assert clauses
    for clause in clauses:
        for part in (clause.heading, clause.body, clause.intro, clause.tail, clause.responsibility):
            assert part in parsed.text, (clause.path, part)


def test_refined_oil_clause_tree():
    parsed = notice("refined-oil-2025")
    assert [c.label for c in parsed.clauses] == [
        "一、目标要求",
        "二、主要任务",
        "三、责任分工",
        "四、时间安排",
        "五、工作要求",
    ]
    tasks = parsed.find("二")
    assert [c.path for c in tasks.children] == [f"二（{n}）" for n in "一二三四五"]
    third = parsed.find("二（三）")
    assert third.heading == "打击非法制售油窝点"
    assert third.body.startswith("查处生产、销售不符合国家标准油品行为；")
    assert third.line == 88


def test_hazchem_clause_tree_numbering_runs_across_subsections():
    parsed = notice("hazchem-2025")
    second = parsed.find("二（二）")
    assert [c.path for c in second.children] == [f"二（二）{n}" for n in range(3, 13)]
    storage = parsed.find("二（二）4")
    assert storage.heading == "储存方面存在的重大安全风险"
    assert [c.path for c in storage.children] == ["二（二）4一是", "二（二）4二是", "二（二）4三是"]
    assert storage.children[2].text.startswith("严格落实重大危险源包保责任制")
    assert parsed.find("二（一）2五是").line == 156
    # the closing paragraph after clause 14 is not part of clause 14
    assert "各城区行政委员会" not in parsed.find("二（三）14").body
    assert parsed.find("二（三）").tail.startswith("各城区行政委员会、市陆港园区管委会")


def test_closing_sentence_belongs_to_the_section_not_the_last_clause():
    parsed = notice("recycling-2025")
    last = parsed.find("三（七）")
    assert last.body.endswith("对涉及“厂中厂”问题的再生资源站点排查整治。")
    assert last.tail == ""
    assert parsed.find("三").tail.startswith("各单位对存在以上问题的再生资源回收站点要责令停业整顿")


def test_lead_department_notes():
    parsed = notice("hazchem-2025")
    assert parsed.find("二（二）3").lead_department == "市应急管理局"
    assert parsed.find("二（二）3二是").lead_department == "市应急管理局"
    assert parsed.find("二（二）5").lead_department == "市消防救援支队"
    # 市交通运输局牵头…第一至四项…；市能源局牵头第五项
    assert parsed.find("二（二）6一是").lead_department == "市交通运输局"
    assert parsed.find("二（二）6四是").lead_department == "市交通运输局"
    assert parsed.find("二（二）6五是").lead_department == "市能源局"
    assert parsed.find("二（二）12").lead_department == "昆仑经济技术开发区管委会"
    # 各相关成员单位分工落实 names no lead
    assert parsed.find("二（一）1").lead_department is None
    assert parsed.find("二（一）1").responsibility == "各相关成员单位分工落实"
    # 由自然资源局牵头 at the start of the clause, mapped to the listed department
    assert notice("placer-gold-2024").find("四（三）").lead_department == "市自然资源局"


def test_departments_and_duties():
    refined = {d.name: d.duties for d in notice("refined-oil-2025").departments}
    assert len(refined) == 11
    assert refined["国家税务总局格尔木市税务局"].startswith("负责成品油税收日常监管")
    assert refined["市消防救援支队"].endswith("督促企业落实防火责任制。")

    recycling = {d.name: d.duties for d in notice("recycling-2025").departments}
    # （六）昆仑经济开发区管委会，东城区、西城区、察尔汗工行委落实属地管理责任…
    for name in ("昆仑经济开发区管委会", "东城区", "西城区", "察尔汗工行委"):
        assert recycling[name].startswith("落实属地管理责任")
    assert recycling["市场监督管理局"].startswith("负责加强再生资源回收经营登记管理")

    sand = {d.name: d.duties for d in notice("sand-gravel-2024").departments}
    assert sand["市自然资源局"].startswith("负责河道管理范围外各类采砂场所的清理整治")
    # listed twice, with two different partners
    assert "检查研判工程项目用砂来源是否合法" in sand["市交通运输局"]
    assert "超限超载运输砂石车辆" in sand["市交通运输局"]

    placer = {d.name: d.duties for d in notice("placer-gold-2024").departments}
    assert set(placer) == {
        "东、西城区行委",
        "市自然资源局",
        "市生态环境局",
        "市林业和草原局",
        "市水利局",
        "市公安局",
        "各乡镇",
    }
    assert placer["各乡镇"] == "对辖区内砂金盗采地区进行定期巡查，配合成员单位开展联合执法。"


def test_hazchem_without_division_lists_the_leads_of_its_clauses():
    departments = {d.name: d for d in notice("hazchem-2025").departments}
    assert not any(d.from_division for d in departments.values())
    assert "二（二）6 交通运输方面存在的重大安全风险（第五项）" in departments["市能源局"].duties
    assert "二（二）8 公共安全方面存在的重大安全风险" in departments["市公安局"].duties


# --------------------------------------------------------- a notice of another shape


def test_unseen_notice_with_header_on_top_and_deeper_numbering():
    raw = (DATA / "dust-control-2025.txt").read_text(encoding="utf-8")
    parsed = parse_notice(raw, "dust-control-2025.txt")
    # written 格政办发[2025]41 号 in the header
    assert parsed.document_no == "格政办发〔2025〕41号"
    assert parsed.title == "2025年格尔木市建筑工地扬尘污染专项整治工作方案"
    assert parsed.issued_on == date(2025, 5, 20)
    # 至 form, years left out, and 9月1日至30日 leaves out the month too
    assert [(s.name, s.starts_on, s.ends_on) for s in parsed.stages] == [
        ("自查自纠阶段", date(2025, 5, 25), date(2025, 6, 10)),
        ("集中整治阶段", date(2025, 6, 11), date(2025, 8, 31)),
        ("巩固提升阶段", date(2025, 9, 1), date(2025, 9, 30)),
    ]
    assert parsed.lead_office == "市住房和城乡建设局"
    # the 责任分工 table
    assert [d.name for d in parsed.departments] == [
        "市住房和城乡建设局",
        "市生态环境局",
        "市综合行政执法局",
        "市自然资源局",
    ]
    # 一、 then 1. then （1）/(1)
    assert [c.path for c in parsed.find("二").children] == ["二1", "二2", "二3", "二4"]
    assert [c.path for c in parsed.find("二1").children] == ["二1（1）", "二1（2）"]
    assert parsed.find("二1（2）").body.startswith("施工现场出入口是否设置车辆冲洗设施")
    transport = parsed.find("二3")
    assert transport.heading == "运输车辆管理"
    assert [c.marker for c in transport.children] == ["一是", "二是", "三是"]
    assert transport.lead_department == "市住房和城乡建设局"
    text = parsed.text
    assert "二、整治重点二、整治重点" not in text and "二是二是" not in text
    assert "（市住房和城乡建设局牵头，市综合行政执法局配合落实）\n4.砂石料场扬尘管理。" in text
    assert not text.startswith("格尔木市人民政府办公室")


# ------------------------------------------------------------------ malformed input

_HEADER = """格尔木市人民政府办公室
关于印发测试工作方案的通知
格政办发〔2025〕99号
各行政委员会：
《测试工作方案》已经市政府同意，现印发给你们。
格尔木市人民政府办公室
2025年6月1日
测试工作方案
为测试，制定本方案，领导小组办公室设在市商务局。
"""


def _error(text: str) -> NoticeError:
    with pytest.raises(NoticeError) as caught:
        parse_notice(text, "bad.txt")
    return caught.value


def test_missing_document_number_is_named_and_the_rest_still_comes_out():
    text = _HEADER.replace("格政办发〔2025〕99号\n", "") + "一、主要任务\n（一）检查加油站。\n"
    parsed = parse_notice(text, "bad.txt")
    assert parsed.document_no == ""
    assert [m[:4] for m in parsed.missing] == ["发文字号"]
    assert parsed.issued_on == date(2025, 6, 1)
    assert parsed.title == "测试工作方案"
    assert [c.path for c in parsed.walk()] == ["一", "一（一）"]


def test_missing_issue_date_is_named_and_the_rest_still_comes_out():
    text = _HEADER.replace("2025年6月1日\n", "") + "一、主要任务\n（一）检查加油站。\n"
    parsed = parse_notice(text, "bad.txt")
    assert parsed.issued_on is None
    assert [m[:4] for m in parsed.missing] == ["成文日期"]
    assert parsed.document_no == "格政办发〔2025〕99号"
    assert "各行政委员会" not in parsed.text  # the header block still goes


def test_notice_without_sections():
    error = _error(_HEADER + "\n再无其他内容。\n")
    assert error.line == 9  # the first line after the title
    assert "一级标题" in error.message


def test_section_numbering_gap_is_reported_where_it_happens():
    text = _HEADER + "一、主要任务\n（一）检查加油站。\n三、工作要求\n（一）加强领导。\n"
    error = _error(text)
    assert error.line == 12
    assert "三、" in error.message and "二、" in error.message


def test_stage_ending_before_it_starts():
    text = (
        _HEADER
        + "一、主要任务\n（一）检查加油站。\n二、时间安排\n"
        + "（一）集中整治阶段（2025年8月1日至2025年7月1日）。开展检查。\n"
    )
    error = _error(text)
    assert error.line == 13
    assert "集中整治阶段" in error.message and "早于" in error.message


def test_notice_without_a_lead_office_names_it():
    text = (
        _HEADER.replace("，领导小组办公室设在市商务局", "") + "一、主要任务\n（一）检查加油站。\n"
    )
    parsed = parse_notice(text, "bad.txt")
    assert parsed.lead_office == ""
    assert [m[:4] for m in parsed.missing] == ["牵头单位"]


def test_empty_notice():
    error = _error("\n\n")
    assert (error.source, error.line) == ("bad.txt", 1)


@pytest.mark.parametrize(
    ("written", "starts_on", "ends_on"),
    [
        ("2025年5月1日—5月10日", date(2025, 5, 1), date(2025, 5, 10)),
        ("5月1日－5月10日", date(2025, 5, 1), date(2025, 5, 10)),
        ("5月1日-10日", date(2025, 5, 1), date(2025, 5, 10)),
        ("5月1日~6月30日", date(2025, 5, 1), date(2025, 6, 30)),
        ("５月１日至６月３０日", date(2025, 5, 1), date(2025, 6, 30)),
        ("2025年11月1日至2026年1月15日", date(2025, 11, 1), date(2026, 1, 15)),
        ("11月1日至1月15日", date(2025, 11, 1), date(2026, 1, 15)),  # runs into next year
        ("2025年7月—2025年10月", date(2025, 7, 1), date(2025, 10, 31)),
        ("2025年2月", date(2025, 2, 1), date(2025, 2, 28)),
    ],
)
def test_stage_date_forms(written, starts_on, ends_on):
    text = (
        _HEADER
        + f"一、主要任务\n（一）检查加油站。\n二、时间安排\n第一阶段：集中整治阶段（{written}）。\n"
    )
    stages = parse_notice(text, "stages.txt").stages
    assert [(s.name, s.starts_on, s.ends_on) for s in stages] == [
        ("集中整治阶段", starts_on, ends_on)
    ]


@pytest.mark.parametrize(
    ("path", "citation"),
    [
        ("二（三）14三是", "二（三）第14项 三是"),
        ("二（一）2五是", "二（一）第2项 五是"),
        ("二（二）4", "二（二）第4项"),
        ("二1（2）", "二、第1项（2）"),
        ("二3一是", "二、第3项 一是"),
        ("三（一）", "三（一）"),
        ("四", "四"),
        ("第三条", "第三条"),  # a hand-written citation is left as it is
    ],
)
def test_clause_citation_reads_as_a_person_cites_it(path, citation):
    assert clause_citation(path) == citation


@pytest.mark.parametrize("name", [*EXPECTED, "dust-control-2025"])
def test_no_clause_citation_runs_numbers_together(name):
    if name in EXPECTED:
        parsed = notice(name)
    else:
        parsed = parse_notice((DATA / f"{name}.txt").read_text(encoding="utf-8"), f"{name}.txt")
    run_together = re.compile(r"[〇一二三四五六七八九十]\d|\d[〇一二三四五六七八九十]")
    citations = [c.citation for c in parsed.walk()]
    assert citations and not [c for c in citations if run_together.search(c)]


# ----------------------------------------------- layouts a new notice may come in

OTHER = NOTICES.parent / "notices-other"


@pytest.mark.parametrize(
    ("name", "number", "issued_on", "title"),
    [
        (
            "clean-energy-2024",
            "格政办发〔2024〕35号",
            date(2024, 5, 8),
            "格尔木市清洁能源产业高地建设行动方案",
        ),
        (
            "quinoa-subsidy-2024",
            "格政办发〔2024〕62号",
            date(2024, 7, 3),
            "格尔木市2024年度藜麦产业扶持资金补贴项目实施方案",
        ),
    ],
)
def test_other_notices_have_their_header_read_right(name, number, issued_on, title):
    parsed = parse_notice((OTHER / f"{name}.txt").read_text(encoding="utf-8"), f"{name}.txt")
    assert (parsed.document_no, parsed.issued_on, parsed.title) == (number, issued_on, title)
    assert parsed.issuer == "格尔木市人民政府办公室"
    assert parsed.addressees.startswith("各行政委员会")
    assert parsed.missing == []
    assert number not in parsed.text
    if name == "clean-energy-2024":
        # The number torn off the header (line 65, mid-sentence) is gone and the
        # sentence it interrupted reads whole.
        assert "加快构建规划、政策、基地、项目、企业“五位一体”推进格局" in parsed.text


_TOP = "格尔木市人民政府办公室\n关于印发测试工作方案的通知\n"
_PLAN = (
    "测试工作方案\n为测试，制定本方案。\n"
    "一、主要任务\n（一）检查加油站。严禁无证经营。\n"
    "二、工作要求\n（一）加强领导。领导小组办公室设在市商务局。\n"
)


@pytest.mark.parametrize(
    "text",
    [
        # the number on page 2, after the date, mid-sentence
        _TOP
        + "各行政委员会：\n2025年6月1日\n"
        + _PLAN.replace("严禁无证经营。", "严禁无证\n格政办发〔2025〕99号\n经营。"),
        # the number before the date, away from the title, in the plan
        _TOP
        + "各行政委员会：\n"
        + _PLAN.replace("为测试，", "为测\n格政办发〔2025〕99号\n试，")
        + "2025年6月1日\n",
        # issuer, title and number on one line, full-width digits
        "格尔木市人民政府办公室 关于印发测试工作方案的通知 \n格政办发〔２０２５〕９９号\n"
        "2025年6月1日\n" + _PLAN,
    ],
    ids=["number-after-date", "number-before-date", "one-line-full-width"],
)
def test_document_number_and_date_are_found_wherever_they_land(text):
    parsed = parse_notice(text, "layout.txt")
    assert (parsed.document_no, parsed.issued_on) == ("格政办发〔2025〕99号", date(2025, 6, 1))
    assert parsed.title == "测试工作方案"
    assert parsed.missing == []
    assert "格政办发" not in parsed.text
    assert parsed.find("一（一）").text == "检查加油站。严禁无证经营。"
    assert "为测试，制定本方案。" in parsed.text


def test_page_numbers_running_headers_and_spaced_digits_are_removed():
    page = "格尔木市人民政府办公室文件\n"
    text = (
        _HEADER
        + page
        + "一、主要任务\n— 2 —\n（一）检查加油站，核查（2 0 2 1—2 0 2 5年）\n"
        + page
        + "台账。\n3\n二、工作要求\n"
        + page
        + "（一）加强领导。\n第4页\n"
    )
    parsed = parse_notice(text, "pages.txt")
    assert parsed.find("一（一）").text == "检查加油站，核查（2021—2025年）台账。"
    assert "文件" not in parsed.text
    assert [c.path for c in parsed.walk()] == ["一", "一（一）", "二", "二（一）"]


def test_task_force_office_is_the_lead_office():
    text = _HEADER.replace("领导小组办公室设在市商务局", "专班办公室设在市财政局")
    parsed = parse_notice(text + "一、主要任务\n（一）检查加油站。\n", "office.txt")
    assert parsed.lead_office == "市财政局"
    assert parsed.missing == []


def test_stage_from_today_starts_on_the_issue_date():
    text = (
        _HEADER.replace("2025年6月1日", "2025年4月20日")
        + "一、主要任务\n（一）检查加油站。\n二、时间安排\n"
        + "（一）自查自纠阶段（即日起至5月15日）。各单位开展自查。\n"
        + "（二）集中整治阶段（5月16日至7月31日）。开展检查。\n"
    )
    stages = parse_notice(text, "stages.txt").stages
    assert [(s.name, s.starts_on, s.ends_on) for s in stages] == [
        ("自查自纠阶段", date(2025, 4, 20), date(2025, 5, 15)),
        ("集中整治阶段", date(2025, 5, 16), date(2025, 7, 31)),
    ]


def test_narrow_columns_keep_each_department_in_its_own_paragraph():
    # Every line is as full as the column; a duty ends with 。 at the line's end.
    duties = (
        "市公安局：负责查处非法运输危\n"
        "险化学品行为，加强运油车检查。\n"
        "市交通运输局：负责查处无证运\n"
        "输车辆，检查驾驶员从业资格。\n"
    )
    text = (
        _HEADER
        + "一、主要任务\n（一）检查加油站。\n二、职责分工\n"
        + duties
        + "三、工作要求\n（一）加强领导。\n"
    )
    parsed = parse_notice(text, "narrow.txt")
    assert {d.name: d.duties for d in parsed.departments} == {
        "市公安局": "负责查处非法运输危险化学品行为，加强运油车检查。",
        "市交通运输局": "负责查处无证运输车辆，检查驾驶员从业资格。",
    }


def test_attachments_are_their_own_parts_with_table_rows():
    text = (
        _HEADER
        + "一、主要任务\n（一）检查餐饮场所。\n二、工作要求\n（一）加强领导。\n"
        + "附件1\n燃气安全检查表\n序号\t检查项目\t检查内容\n1\t燃气软管\t是否老化\n"
        + "附件2\n联系人表\n单位\t姓名\n"
    )
    parsed = parse_notice(text, "attachments.txt")
    assert [(a.number, a.title) for a in parsed.attachments] == [
        (1, "燃气安全检查表"),
        (2, "联系人表"),
    ]
    assert [cells for _, cells, _ in parsed.attachments[0].rows] == [
        ("序号", "检查项目", "检查内容"),
        ("1", "燃气软管", "是否老化"),
    ]
    # The attachments are not part of the last clause.
    assert parsed.find("二（一）").body == "加强领导"
