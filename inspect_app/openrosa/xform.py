"""A published checklist version as an XForm: XLSForm rows made from its items, turned
into XForm XML by pyxform (the converter ODK's own tools use).

The instance's fields are the ones ``form_names`` names (see the README's "ODK Collect
and KoboCollect"): a site chosen from the attached ``sites.csv``, each item pass / fail /
not applicable (an item meant for other kinds of site is not asked), a repeat of
findings offering only the failed items, GPS, the start and end times, draft or final.
A checklist version never changes, so its form never does: the bytes are made once per
process and kept, and the same version gives the same bytes in every process (the
form's ``version`` carries ``GENERATOR_REVISION``, so a change here makes the apps
fetch the form again).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from pyxform.xls2xform import convert

from inspect_app.openrosa import form_names as names

# Bumped with every change to the form made from a checklist: the form's version
# becomes "<checklist version>.<revision>", and the apps see a new form.
GENERATOR_REVISION = 2

RESULT_LABELS = {"pass": "合格", "fail": "不合格", "na": "不适用"}
SEVERITY_LABELS = {"general": "一般问题", "key": "重点问题"}
YES_NO_LABELS = {names.YES: "是", names.NO: "否"}
FINAL_LABELS = {names.YES: "检查完成，提交", names.NO: "保存为草稿，稍后继续"}
SITE_LIST = names.SITES_FILE.removesuffix(".csv")  # the secondary instance's id


@dataclass(frozen=True, slots=True)
class FormItem:
    code: str
    section: str
    text: str
    basis: str
    clause_label: str
    site_types: tuple[str, ...]
    default_severity: str


@dataclass(frozen=True, slots=True)
class FormSource:
    """What a form is made from: a campaign's published checklist version."""

    campaign_code: str
    campaign_name: str
    version: int
    digest: str  # the checklist version's digest: the key of the cache
    items: tuple[FormItem, ...]

    @property
    def form_id(self) -> str:
        return names.form_id(self.campaign_code, self.version)

    @property
    def form_version(self) -> str:
        return form_version(self.version)

    @property
    def title(self) -> str:
        return f"{self.campaign_name}（检查清单第 {self.version} 版）"


@dataclass(frozen=True, slots=True)
class Form:
    form_id: str
    version: str
    title: str
    xml: bytes

    @property
    def md5(self) -> str:
        return hashlib.md5(self.xml).hexdigest()  # noqa: S324 - OpenRosa's form hash


def form_version(checklist_version: int) -> str:
    return f"{checklist_version}.{GENERATOR_REVISION}"


def _site_column(column: str) -> str:
    """XPath: a column of sites.csv on the chosen site's row."""
    return f"instance('{SITE_LIST}')/root/item[name=${{{names.SITE}}}]/{column}"


def _site_type_is(site_types: tuple[str, ...]) -> str:
    """XPath: the chosen site's type (a column of sites.csv) is one of ``site_types``."""
    site_type = _site_column("site_type")
    return " or ".join(f"{site_type} = {_literal(t)}" for t in site_types)


def _literal(text: str) -> str:
    """An XPath string literal (XPath 1.0 has no escapes: pick the other quote)."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    parts = text.split("'")
    return "concat(" + ', "\'", '.join(f"'{p}'" for p in parts) + ")"


def _hint(item: FormItem) -> str:
    where = f"（{item.clause_label}）" if item.clause_label else ""
    return f"{item.code} · 依据{where}：{item.basis}" if item.basis else f"{item.code}{where}"


def _default_severity(items: tuple[FormItem, ...], fields: list[str]) -> str:
    """XPath: the chosen item's default severity (the finding's item, in its repeat)."""
    key = " ".join(f for i, f in zip(items, fields, strict=True) if i.default_severity == "key")
    if not key:
        return "'general'"
    chosen = f"concat(' ', ${{{names.FINDING_ITEM}}}, ' ')"
    return f"if(contains(' {key} ', {chosen}), 'key', 'general')"


def xlsform(source: FormSource) -> dict:
    """The XLSForm (survey, choices, settings) of a checklist version, as pyxform's rows."""
    fields = [names.item_field(i.code) for i in source.items]
    failed = " or ".join(f"${{{f}}} = 'fail'" for f in fields) or "false()"
    # The failed items as " i_A i_B ": the finding's item list offers only these.
    failed_list = (
        "concat(' ', " + ", ".join(f"if(${{{f}}} = 'fail', '{f} ', '')" for f in fields) + ")"
        if fields
        else "''"
    )
    final_yes = f"${{{names.FINAL}}} = '{names.YES}'"

    survey: list[dict] = [
        {"type": "start", "name": names.STARTED_AT},
        {"type": "end", "name": names.FINISHED_AT},
        {
            "type": f"select_one_from_file {names.SITES_FILE}",
            "name": names.SITE,
            "label": "检查对象",
            "hint": "输入名称或地址筛选；只列出本人辖区的检查对象",
            "required": "yes",
            "required_message": "请选择检查对象",
            "appearance": "minimal autocomplete",
        },
        {
            "type": "geopoint",
            "name": names.LOCATION,
            "label": "检查位置（GPS）",
            "hint": "在检查对象现场定位",
        },
        {"type": "begin group", "name": names.ITEMS, "label": "检查项"},
    ]
    for item, field in zip(source.items, fields, strict=True):
        row = {
            "type": "select_one result",
            "name": field,
            "label": item.text,
            "hint": _hint(item),
            "required": final_yes,
            "required_message": "检查完成前须填写每一个检查项",
        }
        if item.site_types:
            row["relevant"] = _site_type_is(item.site_types)
        survey.append(row)
    survey += [
        {"type": "end group", "name": names.ITEMS},
        {
            "type": "begin repeat",
            "name": names.FINDINGS,
            "label": "发现的问题",
            "relevant": failed,
        },
        {"type": "calculate", "name": names.FINDING_ID, "calculation": "once(uuid())"},
        {
            "type": "select_one item",
            "name": names.FINDING_ITEM,
            "label": "问题所属检查项",
            "required": "yes",
            "required_message": "请选择该问题所属的检查项",
            "choice_filter": f"contains({failed_list}, concat(' ', name, ' '))",
        },
        {
            "type": "text",
            "name": names.DESCRIPTION,
            "label": "问题描述",
            "required": "yes",
            "required_message": "请描述发现的问题",
            "appearance": "multiline",
        },
        {
            "type": "select_one severity",
            "name": names.SEVERITY,
            "label": "问题等级",
            "hint": "按检查项预设，可改",
            "required": "yes",
            "required_message": "请选择问题等级",
            "default": "general",
            # The item's own default severity, set when the item is chosen.
            "trigger": f"${{{names.FINDING_ITEM}}}",
            "calculation": _default_severity(source.items, fields),
        },
        {
            "type": "select_one yes_no",
            "name": names.MAJOR_HAZARD,
            "label": "是否重大事故隐患",
            "required": "yes",
            "required_message": "请选择是否为重大事故隐患",
            "default": names.NO,
        },
        {
            "type": "text",
            "name": names.REQUIREMENT,
            "label": "整改要求",
            "appearance": "multiline",
        },
        {
            "type": "date",
            "name": names.DEADLINE,
            "label": "整改期限",
            "hint": "不填则按工作方案的期限（一般问题、重点问题各自的天数）",
        },
        {
            "type": "select_one yes_no",
            "name": names.FIXED_ON_SPOT,
            "label": "是否立行立改",
            "required": "yes",
            "required_message": "请选择是否立行立改",
            "default": names.NO,
        },
        {"type": "begin repeat", "name": names.PHOTOS, "label": "问题照片"},
        {"type": "image", "name": names.PHOTO, "label": "拍照"},
        {"type": "end repeat", "name": names.PHOTOS},
        {"type": "end repeat", "name": names.FINDINGS},
        {
            "type": "select_one final",
            "name": names.FINAL,
            "label": "本次检查是否完成？",
            "hint": "草稿可在本应用中继续填写；检查完成后不能再修改",
            "required": "yes",
            "required_message": "请选择检查完成或保存为草稿",
        },
    ]
    choices = [
        *({"list_name": "result", "name": k, "label": v} for k, v in RESULT_LABELS.items()),
        *({"list_name": "severity", "name": k, "label": v} for k, v in SEVERITY_LABELS.items()),
        *({"list_name": "yes_no", "name": k, "label": v} for k, v in YES_NO_LABELS.items()),
        *({"list_name": "final", "name": k, "label": v} for k, v in FINAL_LABELS.items()),
        *(
            {"list_name": "item", "name": f, "label": f"{i.code} {i.text}"}
            for i, f in zip(source.items, fields, strict=True)
        ),
    ]
    settings = {
        "form_title": source.title,
        "form_id": source.form_id,
        "version": source.form_version,
        "instance_name": f"concat('检查 ', {_site_column('label')})",
    }
    return {
        "survey": survey,
        "survey_header": [_header(survey)],
        "choices": choices,
        "choices_header": [_header(choices)],
        "settings": [settings],
    }


def _header(rows: list[dict]) -> dict:
    """A sheet's header row: every column of its rows (pyxform reads a sheet's columns
    off it; empty cells are left out of the rows, as a sheet's reader leaves them)."""
    return {column: column for column in dict.fromkeys(key for row in rows for key in row)}


def render(source: FormSource) -> Form:
    """The XForm of a checklist version (made anew; ``form`` keeps the result)."""
    result = convert(xlsform(source), form_name=names.ROOT)
    xml = result.xform.encode("utf-8")
    return Form(source.form_id, source.form_version, source.title, xml)


_cache: dict[tuple[str, int, str, int], Form] = {}
_cache_lock = threading.Lock()


def cached_form(
    campaign_code: str, version: int, digest: str, source: Callable[[], FormSource]
) -> Form:
    """The XForm of a checklist version, made once per process (``source`` is called
    only to make it: a published version never changes)."""
    key = (campaign_code, version, digest, GENERATOR_REVISION)
    made = _cache.get(key)
    if made is None:
        made = render(source())
        with _cache_lock:
            if len(_cache) > 500:
                _cache.clear()
            _cache[key] = made
    return made
