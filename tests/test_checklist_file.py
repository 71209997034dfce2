"""Reading checklist files: what a campaign office editor sees when a file is wrong."""

from datetime import date
from pathlib import Path

import pytest
import yaml

from inspect_app.campaigns.checklist_file import (
    ChecklistFileError,
    checklist_digest,
    read_checklist,
)

ROOT = Path(__file__).resolve().parents[1]
NOTICES = ROOT.parent / "shared" / "campaigns"

VALID = """\
campaign:
  code: refined-oil-2025
  name: 2025年格尔木市成品油市场专项整治行动工作方案
  document_no: 格政办发〔2025〕30号
  issued_on: 2025-04-25
  lead_office: 市工业信息化和科技局
  notice: refined-oil-2025.txt
  stages:
  - {name: 动员部署、排查摸底阶段, starts_on: 2025-04-30, ends_on: 2025-06-30}
  - {name: 依法查处、集中整治阶段, starts_on: 2025-07-30, ends_on: 2025-09-30}
  departments:
  - {name: 市市场监督管理局, duties: 负责查处无照经营。}
  deadline_days: {general: 7, key: 30}
items:
- code: RO-01
  section: 二、主要任务 / （三）打击非法制售油窝点
  clause: 二（三）
  text: 是否取得《成品油零售经营批准证书》？
  basis: 查处生产、销售不符合国家标准油品行为
  lead_department: 市市场监督管理局
  site_types: [加油站]
  answer_type: pass_fail_na
  default_severity: key
  photo_required: false
- code: RO-02
  section: 二、主要任务 / （四）斩断流动售油链条
  clause: 二（四）
  text: 是否存在非法改装机动车销售成品油的行为？
  basis: 查处非法改装机动车从事成品油非法销售行为
  lead_department: 市市场监督管理局
  site_types: [流动加油车]
  answer_type: pass_fail_na
  default_severity: key
  photo_required: true
"""


def _write(tmp_path: Path, text: str, name: str = "refined-oil-2025.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing needle."""
    hits = [no for no, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def _error(tmp_path: Path, text: str, **kwargs) -> ChecklistFileError:
    path = _write(tmp_path, text)
    with pytest.raises(ChecklistFileError) as caught:
        read_checklist(path, **kwargs)
    error = caught.value
    assert error.path == str(path)
    assert str(error) == f"{path}:{error.line}: {error.message}"
    return error


def test_valid_file_reads_with_dates(tmp_path):
    data = read_checklist(_write(tmp_path, VALID), notice_dir=NOTICES)
    assert data["campaign"]["issued_on"] == date(2025, 4, 25)
    assert data["campaign"]["stages"][1] == {
        "name": "依法查处、集中整治阶段",
        "starts_on": date(2025, 7, 30),
        "ends_on": date(2025, 9, 30),
    }
    assert [item["code"] for item in data["items"]] == ["RO-01", "RO-02"]
    assert data["items"][1]["photo_required"] is True
    assert data["items"][1]["site_types"] == ["流动加油车"]


@pytest.mark.parametrize(
    "code",
    ["hazchem-2025", "recycling-2025", "refined-oil-2025", "sand-gravel-2024", "placer-gold-2024"],
)
def test_published_checklists_are_valid_against_their_notices(code):
    data = read_checklist(ROOT / "checklists" / f"{code}.yaml", notice_dir=NOTICES)
    assert data["campaign"]["code"] == code


# ------------------------------------------------------------------------- errors


def test_yaml_syntax_error(tmp_path):
    text = VALID.replace("text: 是否取得《成品油零售经营批准证书》？", "text: 是否取得: 证书？")
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, "是否取得: 证书？")
    assert "YAML 语法错误" in error.message


def test_missing_key_points_at_the_item(tmp_path):
    text = VALID.replace("  basis: 查处非法改装机动车从事成品油非法销售行为\n", "")
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, "- code: RO-02")
    assert "缺少必填字段“basis”" in error.message


def test_missing_campaign_key(tmp_path):
    text = VALID.replace("  lead_office: 市工业信息化和科技局\n", "")
    error = _error(tmp_path, text)
    assert error.line == 2
    assert "lead_office" in error.message


def test_unknown_site_type(tmp_path):
    text = VALID.replace("site_types: [流动加油车]", "site_types: [流动加油车, 黑加油点]")
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, "黑加油点")
    assert "未知的场所类型“黑加油点”" in error.message
    assert "加油站" in error.message  # lists what is allowed


@pytest.mark.parametrize(
    ("field", "bad", "expected"),
    [
        ("default_severity: key", "default_severity: severe", "general、key"),
        ("answer_type: pass_fail_na", "answer_type: yes_no", "pass_fail_na"),
        ("photo_required: true", "photo_required: maybe", "true 或 false"),
    ],
)
def test_bad_choice_values(tmp_path, field, bad, expected):
    text = VALID.replace(field, bad, 1)
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, bad)
    assert expected in error.message


def test_duplicate_item_code(tmp_path):
    text = VALID.replace("- code: RO-02", "- code: RO-01")
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, "- code: RO-01", occurrence=2)
    assert "重复" in error.message and f"第{_line_of(text, '- code: RO-01')}行" in error.message


def test_duplicate_key_in_one_item(tmp_path):
    text = VALID.replace(
        "  default_severity: key\n  photo_required: true",
        "  default_severity: key\n  default_severity: general\n  photo_required: true",
    )
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, "default_severity: general")
    assert "重复" in error.message


@pytest.mark.parametrize("bad", ["2025-02-30", "2025/04/25", "四月二十五日"])
def test_bad_issue_date(tmp_path, bad):
    text = VALID.replace("issued_on: 2025-04-25", f"issued_on: {bad}")
    error = _error(tmp_path, text)
    assert error.line == 5
    assert "日期" in error.message


def test_stage_ending_before_it_starts(tmp_path):
    text = VALID.replace(
        "starts_on: 2025-07-30, ends_on: 2025-09-30", "starts_on: 2025-07-30, ends_on: 2025-07-01"
    )
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, "ends_on: 2025-07-01")
    assert "依法查处、集中整治阶段" in error.message and "早于" in error.message


def test_unknown_field(tmp_path):
    text = VALID.replace("  photo_required: true\n", "  photo_required: true\n  remark: 需拍照\n")
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, "remark: 需拍照")
    assert "未知字段“remark”" in error.message


def test_item_text_must_be_a_question(tmp_path):
    text = VALID.replace("是否存在非法改装机动车销售成品油的行为？", "检查非法改装车辆")
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, "检查非法改装车辆")
    assert "？" in error.message


def test_bad_deadline_days(tmp_path):
    text = VALID.replace(
        "deadline_days: {general: 7, key: 30}", "deadline_days: {general: 7, key: 0}"
    )
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, "deadline_days")
    assert "正整数" in error.message


def test_basis_not_in_the_notice(tmp_path):
    text = VALID.replace(
        "basis: 查处生产、销售不符合国家标准油品行为", "basis: 查处销售不合格油品行为"
    )
    assert read_checklist(_write(tmp_path, text))  # fine without the notice at hand
    error = _error(tmp_path, text, notice_dir=NOTICES)
    assert error.line == _line_of(text, "basis: 查处销售不合格油品行为")
    assert "RO-01" in error.message and "basis" in error.message


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(ChecklistFileError) as caught:
        read_checklist(tmp_path / "none.yaml")
    assert caught.value.line == 1 and "不存在" in caught.value.message
    error = _error(tmp_path, "\n# nothing here\n")
    assert error.line == 1 and "为空" in error.message


def test_items_must_not_be_empty(tmp_path):
    text = VALID[: VALID.index("items:")] + "items: []\n"
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, "items: []")


# ------------------------------------------------------------------------- digest


def test_digest_ignores_layout_and_key_order(tmp_path):
    data = read_checklist(_write(tmp_path, VALID))
    digest = checklist_digest(data)
    assert len(digest) == 64 and int(digest, 16) >= 0
    # the same content written differently: block style, keys sorted
    rewritten = yaml.safe_dump(data, allow_unicode=True, sort_keys=True, default_flow_style=False)
    again = read_checklist(_write(tmp_path, rewritten, "other.yaml"))
    assert checklist_digest(again) == digest


def test_digest_changes_with_the_content(tmp_path):
    digest = checklist_digest(read_checklist(_write(tmp_path, VALID)))
    changed = VALID.replace("photo_required: false", "photo_required: true")
    assert checklist_digest(read_checklist(_write(tmp_path, changed))) != digest
    later = VALID.replace("ends_on: 2025-09-30", "ends_on: 2025-10-31")
    assert checklist_digest(read_checklist(_write(tmp_path, later))) != digest
