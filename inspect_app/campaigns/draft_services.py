"""The office's own checklist workflow: a notice becomes a draft, is edited, is published.

ChecklistDraft — 检查清单草稿. Only the campaign office (专项办) works on drafts. A draft is
published through the same path as ``inspect-app checklists load`` (``publish_checklist``):
a new immutable version that phones see through /sync and a new checklist ETag, while
inspections stay pinned to the version they were made with. Before publishing, a draft
for a running campaign is compared with the current version (items added, changed,
withdrawn) and publishing names the version it was compared with, so the office never
replaces a version it has not seen.
"""

import re
import tempfile
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from inspect_app.audit.services import record
from inspect_app.campaigns import services
from inspect_app.campaigns.checklist_file import (
    ITEM_KEYS,
    ChecklistFileError,
    checklist_digest,
    read_checklist,
)
from inspect_app.campaigns.drafts import DraftError, draft_from_text, dump_yaml
from inspect_app.campaigns.models import (
    Campaign,
    ChecklistDraft,
    ChecklistDraftItem,
    ChecklistItem,
    ChecklistVersion,
)
from inspect_app.db_types import MAX_INT, utcnow
from inspect_app.domain import SEVERITIES, SITE_TYPES
from inspect_app.errors import Conflict, Forbidden, Invalid, NotFound
from inspect_app.extensions import db

OFFICE = "office"
CAMPAIGN_CODE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
PREFIX = re.compile(r"[A-Z]{2,4}")
MAX_TEXT = 500
MAX_BASIS = 4000
MAX_DEPARTMENT = 200
# The fields a reviewer compares between two versions of an item.
COMPARED = (
    "text",
    "basis",
    "clause",
    "section",
    "lead_department",
    "site_types",
    "default_severity",
    "photo_required",
)
FIELD_LABELS = {
    "text": "检查内容",
    "basis": "通知原文",
    "clause": "条款",
    "section": "章节",
    "lead_department": "牵头部门",
    "site_types": "场所类型",
    "default_severity": "问题等级",
    "photo_required": "须拍照",
}


def require_office(user) -> None:
    if user.role != OFFICE:
        raise Forbidden("检查清单只能由专项办发布和修改")


# ---------------------------------------------------------------------------
# Making a draft


def create_draft(user, text: str, code: str, prefix: str | None, source_name: str):
    """A draft from the notice's text; Invalid (422) when the notice gives none."""
    require_office(user)
    code = (code or "").strip()
    if not CAMPAIGN_CODE.fullmatch(code) or len(code) > 64:
        raise Invalid(
            "活动代码应为小写字母、数字和连字符，如 refined-oil-2025",
            fields={"campaign": ["活动代码格式有误"]},
        )
    prefix = (prefix or "").strip() or None
    if prefix is not None and not PREFIX.fullmatch(prefix):
        raise Invalid(
            "检查项编号前缀应为 2 到 4 个大写字母，如 RO", fields={"prefix": ["前缀格式有误"]}
        )
    try:
        made = draft_from_text(text, code, prefix)
    except DraftError as exc:
        where = f"（通知第 {exc.line} 行附近）" if exc.line else ""
        raise Invalid(f"{exc.message}{where}") from None
    items = made["items"]
    if not items:
        raise Invalid("通知中没有可在现场检查的事项，无法生成检查清单")
    current = current_of(code)
    if current is not None:
        items = adopt_codes(items, services.version_items(current))
    draft = ChecklistDraft(
        campaign_code=code,
        prefix=items[0]["code"].split("-")[0],
        campaign=_json_safe(made["campaign"]),
        excluded=_json_safe(made["excluded"]),
        summary=_json_safe(made["summary"]),
        source_name=(source_name or "通知")[:200],
        notice_text=text,
        status="draft",
        created_by=user.id,
    )
    db.session.add(draft)
    _add_items(draft, items)
    db.session.flush()
    record(user.id, "draft_create", "checklist_draft", draft.id, {"campaign": code})
    return draft


def adopt_codes(items: list[dict], current: list) -> list[dict]:
    """Generated items recoded after the running version's items they stand for.

    Phones and findings know an item by its code, and the difference shown before
    publishing is read by code: a generated item that asks what a published item asks
    (same question, or the same notice sentence at the same clause) keeps that item's
    code; every other item gets a new code after the highest ever used, in the running
    version's prefix (a checklist file has one).
    """
    prefix = current[0].code.split("-")[0] if current else items[0]["code"].split("-")[0]
    free = list(current)
    taken: dict[int, str] = {}
    rules = (
        lambda g, c: g["text"] == c.text,
        lambda g, c: g.get("basis") == c.basis and g.get("clause") == c.clause,
        lambda g, c: (
            g.get("clause") == c.clause
            and bool(g.get("basis"))
            and bool(c.basis)
            and (g["basis"] in c.basis or c.basis in g["basis"])
        ),
    )
    for rule in rules:
        for index, item in enumerate(items):
            if index in taken:
                continue
            match = next((c for c in free if rule(item, c)), None)
            if match is not None:
                taken[index] = match.code
                free.remove(match)
    numbers = [int(c.code.split("-")[1]) for c in current if c.code.startswith(f"{prefix}-")]
    next_number = max(numbers, default=0) + 1
    out = []
    for index, item in enumerate(items):
        code = taken.get(index)
        if code is None:
            code = f"{prefix}-{next_number:02d}"
            next_number += 1
        out.append({**item, "code": code})
    return out


def create_draft_from_version(user, code: str):
    """A draft holding the campaign's current version, to change it without a new notice."""
    require_office(user)
    campaign = services.campaign_by_code(code)
    current = current_of(code)
    if current is None:
        raise NotFound(f"专项行动 {code} 尚未发布检查清单")
    items = services.version_items(current)
    draft = ChecklistDraft(
        campaign_code=code,
        prefix=items[0].code.split("-")[0],
        campaign=_json_safe(campaign_meta(campaign)),
        excluded=[],
        summary={"items": len(items), "excluded": 0},
        source_name=f"第 {current.version} 版检查清单",
        notice_text="",
        status="draft",
        created_by=user.id,
    )
    db.session.add(draft)
    _add_items(draft, [{k: getattr(i, k) for k in ITEM_KEYS} for i in items])
    db.session.flush()
    record(
        user.id,
        "draft_create",
        "checklist_draft",
        draft.id,
        {"campaign": code, "from": current.version},
    )
    return draft


def campaign_meta(campaign: Campaign) -> dict:
    """The campaign part of a checklist file, as the campaign stands now."""
    return {
        "code": campaign.code,
        "name": campaign.name,
        "document_no": campaign.document_no,
        "issued_on": campaign.issued_on,
        "lead_office": campaign.lead_office,
        "notice": f"{campaign.code}.txt",
        "stages": services.stages_of(campaign),
        "departments": [
            {"name": d["name"], "duties": d["duties"]} for d in campaign.departments or []
        ],
        "deadline_days": {
            "general": campaign.general_deadline_days,
            "key": campaign.key_deadline_days,
        },
    }


def _add_items(draft: ChecklistDraft, items: list[dict]) -> None:
    for position, item in enumerate(items):
        draft.items.append(
            ChecklistDraftItem(
                position=position,
                code=item["code"],
                section=item.get("section") or "",
                clause=item.get("clause") or "",
                text=item["text"],
                basis=item.get("basis") or "",
                lead_department=item.get("lead_department") or None,
                site_types=list(item.get("site_types") or []),
                answer_type=item.get("answer_type", "pass_fail_na"),
                default_severity=item.get("default_severity", "general"),
                photo_required=bool(item.get("photo_required", False)),
            )
        )


def _json_safe(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def list_drafts(user) -> list[ChecklistDraft]:
    require_office(user)
    return list(
        db.session.scalars(select(ChecklistDraft).order_by(ChecklistDraft.id.desc()).limit(50))
    )


def get_draft(user, draft_id: int, for_update: bool = False) -> ChecklistDraft:
    require_office(user)
    # A number beyond an INTEGER column names no draft; the database would refuse to bind it.
    draft = db.session.get(ChecklistDraft, draft_id) if 0 < draft_id <= MAX_INT else None
    if draft is None:
        raise NotFound("检查清单草稿不存在")
    if for_update and draft.status != "draft":
        raise Conflict(f"该草稿已发布为第 {draft.published_version} 版，不能再修改；请重新上传通知")
    return draft


def _item(draft: ChecklistDraft, item_id: int) -> ChecklistDraftItem:
    for item in draft.items:
        if item.id == item_id:
            return item
    raise NotFound("草稿中没有该检查项")


# ---------------------------------------------------------------------------
# Editing


def _clean_fields(data: dict, partial: bool) -> dict:
    """The edited fields, checked as the checklist file will check them; Invalid otherwise."""
    problems: dict[str, list[str]] = {}
    out: dict = {}
    if "text" in data or not partial:
        text = (data.get("text") or "").strip().replace("?", "？")
        if not text:
            problems["text"] = ["检查内容不能为空"]
        elif len(text) > MAX_TEXT:
            problems["text"] = [f"检查内容不能超过 {MAX_TEXT} 字"]
        elif not text.endswith("？"):
            problems["text"] = [
                "检查内容应为以“？”结尾的问题，如：是否持有《危险化学品经营许可证》？"
            ]
        out["text"] = text
    if "lead_department" in data or not partial:
        lead = (data.get("lead_department") or "").strip()
        if not lead:
            problems["lead_department"] = ["牵头部门不能为空"]
        elif len(lead) > MAX_DEPARTMENT:
            problems["lead_department"] = [f"牵头部门不能超过 {MAX_DEPARTMENT} 字"]
        out["lead_department"] = lead
    if "site_types" in data or not partial:
        sites = data.get("site_types") or []
        unknown = [s for s in sites if s not in SITE_TYPES]
        if not sites:
            problems["site_types"] = ["至少选择一种场所类型"]
        elif unknown:
            problems["site_types"] = [f"未知的场所类型：{'、'.join(map(str, unknown))}"]
        out["site_types"] = [s for s in SITE_TYPES if s in sites]
    if "default_severity" in data:
        if data["default_severity"] not in SEVERITIES:
            problems["default_severity"] = ["问题等级只能是一般或重点"]
        out["default_severity"] = data["default_severity"]
    if "photo_required" in data:
        out["photo_required"] = bool(data["photo_required"])
    for key, limit in (("basis", MAX_BASIS), ("section", MAX_TEXT), ("clause", 64)):
        if key in data:
            value = (data.get(key) or "").strip()
            if len(value) > limit:
                problems[key] = [f"{FIELD_LABELS[key]}不能超过 {limit} 字"]
            out[key] = value
    if problems:
        first = next(iter(problems.values()))[0]
        raise Invalid(first, fields=problems)
    return out


def _touch(user, draft: ChecklistDraft, action: str, detail: dict) -> None:
    draft.updated_at = utcnow()
    db.session.flush()
    record(user.id, action, "checklist_draft", draft.id, detail)


def update_item(user, draft: ChecklistDraft, item_id: int, data: dict) -> ChecklistDraftItem:
    """Change an item's text, lead department, site types, severity or photo requirement."""
    item = _item(draft, item_id)
    for key, value in _clean_fields(data, partial=True).items():
        setattr(item, key, value)
    _touch(user, draft, "draft_edit", {"item": item.code})
    return item


def add_item(user, draft: ChecklistDraft, data: dict) -> ChecklistDraftItem:
    """A new item at the end (or after ``after``), with the next unused code."""
    fields = _clean_fields(data, partial=False)
    used = {i.code for i in draft.items} | set(
        db.session.scalars(
            select(ChecklistItem.code)
            .join(ChecklistVersion)
            .join(Campaign)
            .where(Campaign.code == draft.campaign_code)
        )
    )
    numbers = [int(c.split("-")[1]) for c in used if c.startswith(f"{draft.prefix}-")]
    code = f"{draft.prefix}-{(max(numbers, default=0) + 1):02d}"
    item = ChecklistDraftItem(
        code=code,
        position=len(draft.items),
        section=fields.pop("section", "") or "专项办补充",
        clause=fields.pop("clause", "") or "",
        basis=fields.pop("basis", "") or "",
        **fields,
    )
    draft.items.append(item)
    if "after" in data and data["after"] is not None:
        _place(draft, item, data["after"])
    _renumber(draft)
    _touch(user, draft, "draft_add", {"item": code})
    return item


def delete_item(user, draft: ChecklistDraft, item_id: int) -> None:
    item = _item(draft, item_id)
    if len(draft.items) == 1:
        raise Invalid("检查清单至少要有一个检查项")
    draft.items.remove(item)
    _renumber(draft)
    _touch(user, draft, "draft_delete", {"item": item.code})


def merge_items(user, draft: ChecklistDraft, first_id: int, second_id: int) -> ChecklistDraftItem:
    """Fold the second item into the first: one question, both clauses' text as basis."""
    if first_id == second_id:
        raise Invalid("请选择两个不同的检查项合并")
    first, second = _item(draft, first_id), _item(draft, second_id)
    first.text = _joined_question(first.text, second.text)
    if second.basis and second.basis not in first.basis:
        first.basis = f"{first.basis}{second.basis}" if first.basis else second.basis
    first.site_types = [
        s for s in SITE_TYPES if s in set(first.site_types) | set(second.site_types)
    ]
    if "key" in (first.default_severity, second.default_severity):
        first.default_severity = "key"
    first.photo_required = first.photo_required or second.photo_required
    first.lead_department = first.lead_department or second.lead_department
    draft.items.remove(second)
    _renumber(draft)
    _touch(user, draft, "draft_merge", {"into": first.code, "merged": second.code})
    return first


def _joined_question(a: str, b: str) -> str:
    """是否持有证照？ + 是否建立台账？ → 是否持有证照，且建立台账？"""
    head = a.rstrip("？?").rstrip()
    tail = b.rstrip("？?").strip()
    if tail.startswith("是否"):
        tail = tail[2:]
    if not tail or tail in head:
        return f"{head}？"
    return f"{head}，且{tail}？"


def move_item(user, draft: ChecklistDraft, item_id: int, position: int) -> None:
    """Put the item at ``position`` (1 is the first); the others keep their order."""
    item = _item(draft, item_id)
    if not 1 <= position <= len(draft.items):
        raise Invalid(f"位置应在 1 到 {len(draft.items)} 之间", fields={"position": ["超出范围"]})
    ordered = [i for i in draft.items if i is not item]
    ordered.insert(position - 1, item)
    for index, each in enumerate(ordered):
        each.position = index
    draft.items.sort(key=lambda i: i.position)
    _touch(user, draft, "draft_move", {"item": item.code, "position": position})


def _place(draft: ChecklistDraft, item: ChecklistDraftItem, after: int) -> None:
    ordered = [i for i in draft.items if i is not item]
    index = next((k + 1 for k, i in enumerate(ordered) if i.id == after), len(ordered))
    ordered.insert(index, item)
    draft.items[:] = ordered


def _renumber(draft: ChecklistDraft) -> None:
    for index, each in enumerate(draft.items):
        each.position = index


# ---------------------------------------------------------------------------
# The checklist the draft would publish, its difference from the current version


def day(value):
    return date.fromisoformat(value) if value else None


def checklist_data(draft: ChecklistDraft) -> dict:
    """The draft in the shape of a checklist file (dates as dates)."""
    meta = draft.campaign
    campaign = {
        "code": draft.campaign_code,
        "name": meta.get("name"),
        "document_no": meta.get("document_no"),
        "issued_on": day(meta.get("issued_on")),
        "lead_office": meta.get("lead_office"),
        "notice": meta.get("notice") or f"{draft.campaign_code}.txt",
        "stages": [
            {
                "name": s["name"],
                "starts_on": day(s.get("starts_on")),
                "ends_on": day(s.get("ends_on")),
            }
            for s in meta.get("stages") or []
        ],
        # A department the notice names without duties says nothing a file could hold.
        "departments": [
            {"name": d["name"], "duties": d["duties"]}
            for d in meta.get("departments") or []
            if d.get("name") and (d.get("duties") or "").strip()
        ],
        "deadline_days": dict(meta.get("deadline_days") or {"general": 7, "key": 30}),
    }
    items = [{key: getattr(i, key) for key in ITEM_KEYS} for i in draft.items]
    for item in items:
        item["site_types"] = list(item["site_types"])
    return {"campaign": campaign, "items": items}


def draft_yaml(draft: ChecklistDraft) -> str:
    return dump_yaml(checklist_data(draft))


def checked_checklist(draft: ChecklistDraft) -> dict:
    """The draft written as a checklist file and read back as ``checklists load`` reads it.

    What is published is exactly what the downloaded YAML holds, so loading that file
    later publishes nothing new; a draft the file format refuses is a 422 naming the item.
    """
    with tempfile.TemporaryDirectory(prefix="draft-") as folder:
        path = Path(folder) / f"{draft.campaign_code}.yaml"
        path.write_text(draft_yaml(draft), encoding="utf-8")
        try:
            return read_checklist(path)
        except ChecklistFileError as exc:
            raise Invalid(f"草稿还不能发布：{exc.message}") from None


def current_of(code: str) -> ChecklistVersion | None:
    return db.session.scalar(
        select(ChecklistVersion)
        .join(Campaign)
        .where(Campaign.code == code)
        .order_by(ChecklistVersion.version.desc())
        .limit(1)
    )


def _item_view(item) -> dict:
    return {key: getattr(item, key) for key in ("code", *COMPARED)}


def draft_diff(user, draft: ChecklistDraft) -> dict:
    """What publishing changes: items added, changed (with the fields), withdrawn."""
    require_office(user)
    current = current_of(draft.campaign_code)
    new = {i.code: _item_view(i) for i in draft.items}
    old = {i.code: _item_view(i) for i in services.version_items(current)} if current else {}
    changed = []
    for code, after in new.items():
        before = old.get(code)
        if before is None:
            continue
        fields = [k for k in COMPARED if list_or(before[k]) != list_or(after[k])]
        if fields:
            changed.append(
                {
                    "code": code,
                    "fields": fields,
                    "field_labels": [FIELD_LABELS[f] for f in fields],
                    "before": before,
                    "after": after,
                }
            )
    return {
        "campaign": draft.campaign_code,
        "base_version": current.version if current else None,
        "added": [v for c, v in new.items() if c not in old],
        "changed": changed,
        "withdrawn": [v for c, v in old.items() if c not in new],
        "unchanged": sum(1 for c in new if c in old) - len(changed),
    }


def list_or(value):
    return list(value) if isinstance(value, list | tuple) else value


# ---------------------------------------------------------------------------
# Publishing


def publish_draft(user, draft: ChecklistDraft, base_version: int | None, address=None) -> dict:
    """Publish the draft as the campaign's next version; Conflict if the base moved on."""
    require_office(user)
    if draft.status != "draft":
        raise Conflict(f"该草稿已发布为第 {draft.published_version} 版")
    # Two offices publishing at once: the second waits here for the first to commit, then
    # sees its version and is told to look again (SQLite's writers queue already).
    db.session.scalar(
        select(Campaign.id).where(Campaign.code == draft.campaign_code).with_for_update()
    )
    current = current_of(draft.campaign_code)
    current_number = current.version if current else None
    if current_number != base_version:
        if current_number is None:
            raise Conflict("该活动还没有已发布的版本，请刷新后重新确认")
        seen = f"第 {base_version} 版" if base_version else "空白清单"
        raise Conflict(
            f"当前已发布的是第 {current_number} 版，而确认时对比的是{seen}：请重新查看差异后再发布"
        )
    data = checked_checklist(draft)
    try:
        result = services.publish_checklist(data, checklist_digest(data))
    except IntegrityError:
        # A new campaign's first version, published by someone else at the same moment.
        raise Conflict("另一位用户刚刚发布了该活动的检查清单，请刷新后重新查看差异") from None
    if not result.published:
        raise Conflict(f"草稿与当前第 {result.version} 版完全相同，无需发布")
    draft.status = "published"
    draft.published_version = result.version
    draft.updated_at = utcnow()
    db.session.flush()
    record(
        user.id,
        "checklist_publish",
        "checklist_version",
        f"{result.code}.v{result.version}",
        {"draft": draft.id, "base_version": base_version, "items": len(data["items"])},
        address,
    )
    return {"campaign": result.code, "version": result.version, "draft": draft.id}


def version_yaml(user, code: str, number: int | None) -> tuple[str, int]:
    """A published version as a checklist file (the campaign part as it stands now)."""
    require_office(user)
    campaign = services.campaign_by_code(code)
    query = select(ChecklistVersion).where(ChecklistVersion.campaign_id == campaign.id)
    if number is not None:
        query = query.where(ChecklistVersion.version == number)
    version = db.session.scalar(query.order_by(ChecklistVersion.version.desc()).limit(1))
    if version is None:
        raise NotFound(
            f"专项行动 {code} 没有第 {number} 版检查清单" if number else "尚未发布检查清单"
        )
    data = {
        "campaign": campaign_meta(campaign),
        "items": [{k: getattr(i, k) for k in ITEM_KEYS} for i in services.version_items(version)],
    }
    return dump_yaml(data), version.version
