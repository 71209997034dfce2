"""Read and validate a campaign checklist file (``checklists/<code>.yaml``).

The campaign office edits these files by hand after the generator drafts them,
so a mistake must be reported the way an editor needs it: which file, which line,
and what was expected there. The YAML is composed into a node tree first so that
every value keeps the line it came from. ``checklist_digest`` fingerprints the
content so the loader publishes a new checklist version only when it changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from checklists import NoticeError, clean_text
from checklists.vocab import ITEM_KEYS as _ITEM_KEYS
from inspect_app.domain import ANSWER_TYPES, SEVERITIES, SITE_TYPES

__all__ = ["ChecklistFileError", "checklist_digest", "read_checklist"]


class ChecklistFileError(ValueError):
    """A checklist file that cannot be used; the message names the file and line."""

    def __init__(self, path: str | Path, line: int, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(f"{self.path}:{line}: {message}")


_CAMPAIGN_CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DOCUMENT_NO = re.compile(r"^\S+〔\d{4}〕\d+号$")
_ITEM_CODE = re.compile(r"^(?P<prefix>[A-Z]{2,4})-\d{2,3}$")

_CAMPAIGN_KEYS = (
    "code",
    "name",
    "document_no",
    "issued_on",
    "lead_office",
    "notice",
    "stages",
    "departments",
    "deadline_days",
)
ITEM_KEYS = _ITEM_KEYS  # an item's fields, in the order the file writes them


@dataclass
class _Reader:
    path: str
    loader: yaml.SafeLoader

    def fail(self, node: yaml.Node | None, message: str) -> ChecklistFileError:
        line = node.start_mark.line + 1 if node is not None else 1
        return ChecklistFileError(self.path, line, message)

    # -- structure

    def mapping(
        self, node: yaml.Node, where: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{where}应为“字段: 值”形式的映射")
        fields: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key in fields:
                first = fields[key][0].start_mark.line + 1
                raise self.fail(key_node, f"{where}的字段“{key}”重复（第{first}行已有）")
            if key not in required and key not in optional:
                allowed = "、".join(required + optional)
                raise self.fail(key_node, f"{where}中有未知字段“{key}”，应为：{allowed}")
            fields[key] = (key_node, value_node)
        for key in required:
            if key not in fields:
                raise self.fail(node, f"{where}缺少必填字段“{key}”")
        return fields

    def sequence(self, node: yaml.Node, where: str, allow_empty: bool = True) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{where}应为列表（每行以“- ”开头）")
        if not node.value and not allow_empty:
            raise self.fail(node, f"{where}不能为空列表")
        return list(node.value)

    # -- scalars

    def scalar(self, node: yaml.Node, where: str) -> object:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, f"{where}应为单个值，而不是列表或映射")
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError):
            # PyYAML turns 2025-02-30 into a date and fails there.
            raise self.fail(node, f"{where}的值“{node.value}”无效") from None

    def text(self, node: yaml.Node, where: str) -> str:
        value = self.scalar(node, where)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(node, f"{where}应为非空文本")
        return value

    def day(self, node: yaml.Node, where: str) -> date:
        expected = f"{where}应为日期，写作 YYYY-MM-DD（如 2025-04-25）"
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, expected)
        try:
            value = self.loader.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError):
            raise self.fail(node, f"{where}“{node.value}”不是有效日期") from None
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                raise self.fail(node, expected) from None
        if not isinstance(value, date) or hasattr(value, "hour"):
            raise self.fail(node, expected)
        return value

    def choice(self, node: yaml.Node, where: str, allowed: tuple[str, ...]) -> str:
        value = self.scalar(node, where)
        if value not in allowed:
            raise self.fail(node, f"{where}为“{node.value}”，应为以下之一：{'、'.join(allowed)}")
        return value  # type: ignore[return-value]

    def flag(self, node: yaml.Node, where: str) -> bool:
        value = self.scalar(node, where)
        if not isinstance(value, bool):
            raise self.fail(node, f"{where}应为 true 或 false")
        return value

    def count(self, node: yaml.Node, where: str) -> int:
        value = self.scalar(node, where)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fail(node, f"{where}应为正整数（天数）")
        return value


def _compose(path: Path) -> tuple[yaml.Node, yaml.SafeLoader]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ChecklistFileError(path, 1, "文件不存在") from None
    except UnicodeDecodeError:
        raise ChecklistFileError(path, 1, "文件应为 UTF-8 编码") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "无法解析"
        raise ChecklistFileError(path, line, f"YAML 语法错误：{problem}") from None
    if node is None:
        raise ChecklistFileError(path, 1, "文件为空：应有 campaign 和 items 两部分")
    return node, loader


def _read_campaign(r: _Reader, node: yaml.Node) -> dict:
    f = r.mapping(node, "campaign", _CAMPAIGN_KEYS)
    campaign: dict = {}
    code = r.text(f["code"][1], "campaign.code")
    if not _CAMPAIGN_CODE.fullmatch(code):
        raise r.fail(
            f["code"][1], f"活动代码“{code}”应为小写字母、数字和连字符，如 refined-oil-2025"
        )
    campaign["code"] = code
    campaign["name"] = r.text(f["name"][1], "campaign.name")
    document_no = r.text(f["document_no"][1], "campaign.document_no")
    if not _DOCUMENT_NO.fullmatch(document_no):
        raise r.fail(f["document_no"][1], f"发文字号“{document_no}”应形如“格政办发〔2025〕30号”")
    campaign["document_no"] = document_no
    campaign["issued_on"] = r.day(f["issued_on"][1], "campaign.issued_on")
    campaign["lead_office"] = r.text(f["lead_office"][1], "campaign.lead_office")
    campaign["notice"] = r.text(f["notice"][1], "campaign.notice")

    stages = []
    for k, stage_node in enumerate(r.sequence(f["stages"][1], "campaign.stages"), start=1):
        where = f"第{k}个阶段"
        s = r.mapping(stage_node, where, ("name", "starts_on", "ends_on"))
        stage = {
            "name": r.text(s["name"][1], f"{where}的 name"),
            "starts_on": r.day(s["starts_on"][1], f"{where}的 starts_on"),
            "ends_on": r.day(s["ends_on"][1], f"{where}的 ends_on"),
        }
        if stage["ends_on"] < stage["starts_on"]:
            raise r.fail(
                s["ends_on"][1],
                f"阶段“{stage['name']}”的结束日期 {stage['ends_on']} 早于开始日期 "
                f"{stage['starts_on']}",
            )
        stages.append(stage)
    campaign["stages"] = stages

    departments = []
    for k, dept_node in enumerate(r.sequence(f["departments"][1], "campaign.departments"), 1):
        where = f"第{k}个部门"
        d = r.mapping(dept_node, where, ("name", "duties"))
        departments.append(
            {
                "name": r.text(d["name"][1], f"{where}的 name"),
                "duties": r.text(d["duties"][1], f"{where}的 duties"),
            }
        )
    campaign["departments"] = departments

    days = r.mapping(f["deadline_days"][1], "campaign.deadline_days", SEVERITIES)
    campaign["deadline_days"] = {
        severity: r.count(days[severity][1], f"deadline_days.{severity}") for severity in SEVERITIES
    }
    return campaign


def _read_items(r: _Reader, node: yaml.Node) -> list[dict]:
    items = []
    seen: dict[str, int] = {}
    prefix = None
    for index, item_node in enumerate(r.sequence(node, "items", allow_empty=False), start=1):
        where = f"第{index}个检查项"
        f = r.mapping(item_node, where, _ITEM_KEYS)
        code_node = f["code"][1]
        code = r.text(code_node, f"{where}的 code")
        m = _ITEM_CODE.fullmatch(code)
        if not m:
            raise r.fail(
                code_node, f"检查项编号“{code}”应形如“RO-07”（大写前缀、连字符、两位数字）"
            )
        if code in seen:
            raise r.fail(code_node, f"检查项编号“{code}”重复（第{seen[code]}行已使用）")
        if prefix is not None and m["prefix"] != prefix:
            raise r.fail(code_node, f"检查项编号“{code}”的前缀应与其他检查项一致，为“{prefix}”")
        prefix = m["prefix"]
        seen[code] = code_node.start_mark.line + 1
        where = f"检查项 {code}"

        text_node = f["text"][1]
        question = r.text(text_node, f"{where}的 text")
        if not question.rstrip().endswith("？"):
            raise r.fail(text_node, f"{where}的 text 应为以“？”结尾的问题")

        sites_node = f["site_types"][1]
        sites = []
        for site_node in r.sequence(sites_node, f"{where}的 site_types", allow_empty=False):
            site = r.scalar(site_node, f"{where}的 site_types")
            if site not in SITE_TYPES:
                raise r.fail(
                    site_node, f"未知的场所类型“{site_node.value}”，应为：{'、'.join(SITE_TYPES)}"
                )
            if site in sites:
                raise r.fail(site_node, f"{where}的场所类型“{site}”重复")
            sites.append(site)

        items.append(
            {
                "code": code,
                "section": r.text(f["section"][1], f"{where}的 section"),
                "clause": r.text(f["clause"][1], f"{where}的 clause"),
                "text": question,
                "basis": r.text(f["basis"][1], f"{where}的 basis"),
                "lead_department": r.text(f["lead_department"][1], f"{where}的 lead_department"),
                "site_types": sites,
                "answer_type": r.choice(
                    f["answer_type"][1], f"{where}的 answer_type", ANSWER_TYPES
                ),
                "default_severity": r.choice(
                    f["default_severity"][1], f"{where}的 default_severity", SEVERITIES
                ),
                "photo_required": r.flag(f["photo_required"][1], f"{where}的 photo_required"),
            }
        )
    return items


def read_checklist(path: str | Path, notice_dir: str | Path | None = None) -> dict:
    """The checklist in ``path`` as a dict (dates as ``datetime.date``).

    With ``notice_dir``, also check that every item's basis is found in the
    cleaned text of the notice the campaign names. Raises ChecklistFileError.
    """
    path = Path(path)
    root, loader = _compose(path)
    try:
        r = _Reader(str(path), loader)
        top = r.mapping(root, "文件顶层", ("campaign", "items"))
        data = {
            "campaign": _read_campaign(r, top["campaign"][1]),
            "items": _read_items(r, top["items"][1]),
        }
        if notice_dir is not None:
            _check_basis(r, data, Path(notice_dir), top)
        return data
    finally:
        loader.dispose()


def _check_basis(r: _Reader, data: dict, notice_dir: Path, top: dict) -> None:
    campaign_fields = {k.value: v for k, v in top["campaign"][1].value}
    notice_path = notice_dir / data["campaign"]["notice"]
    if not notice_path.is_file():
        raise r.fail(campaign_fields["notice"], f"找不到通知原文 {notice_path}")
    try:
        cleaned = clean_text(notice_path.read_text(encoding="utf-8"), str(notice_path))
    except NoticeError as exc:
        raise r.fail(campaign_fields["notice"], f"通知原文无法解析：{exc}") from None
    for item, item_node in zip(data["items"], top["items"][1].value, strict=True):
        if item["basis"] not in cleaned:
            basis_node = {k.value: v for k, v in item_node.value}["basis"]
            raise r.fail(
                basis_node, f"检查项 {item['code']} 的 basis 在通知原文中找不到：应逐字摘自通知条款"
            )


def _json_default(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


def checklist_digest(data: dict) -> str:
    """SHA-256 of the checklist's content, independent of key order and YAML layout."""
    canonical = json.dumps(
        data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_json_default
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
