"""The names an XForm made from a checklist gives its fields, shared by the form and the
submission reader so the two cannot drift apart."""

from __future__ import annotations

import re

# The instance's root element and the namespaces of a submission.
ROOT = "data"
XFORMS_NS = "http://www.w3.org/2002/xforms"
OPENROSA_NS = "http://openrosa.org/xforms"

SITE = "site"
STARTED_AT = "started_at"
FINISHED_AT = "finished_at"
LOCATION = "location"
ITEMS = "items"
FINDINGS = "findings"  # a repeat, one per failed item
FINDING_ID = "finding_id"  # once(uuid()): an edit keeps the finding's id
FINDING_ITEM = "item"
DESCRIPTION = "description"
SEVERITY = "severity"
MAJOR_HAZARD = "major_hazard"
REQUIREMENT = "requirement"
DEADLINE = "deadline"
FIXED_ON_SPOT = "fixed_on_spot"
PHOTOS = "photos"  # a repeat inside each finding
PHOTO = "photo"
FINAL = "final"  # yes: 检查完成; no: 草稿 (the submission stays a draft)

RESULTS = ("pass", "fail", "na")
YES, NO = "yes", "no"
SITES_FILE = "sites.csv"

_NOT_NAME = re.compile(r"[^A-Za-z0-9_]")


def item_field(code: str) -> str:
    """The field of a checklist item: ``RO-01`` → ``i_RO_01``, a valid XML name."""
    return "i_" + _NOT_NAME.sub("_", code)


def form_id(campaign_code: str, version: int) -> str:
    """One form per campaign checklist version: ``refined-oil-2025-v3``."""
    return f"{campaign_code}-v{version}"


def parse_form_id(value: str) -> tuple[str, int] | None:
    """The campaign code and checklist version a form id names, or None."""
    match = re.fullmatch(r"(.+)-v([1-9][0-9]{0,8})", value or "")
    if match is None:
        return None
    return match.group(1), int(match.group(2))
