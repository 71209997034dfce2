"""Checklists from campaign notices: pure text in, checklist out (no Flask, no database).

The reviewed checklists the project ships lie beside this package as
``checklists/<code>.yaml``. The generator reads a notice (通知 + 工作方案) as a PDF
extractor left it, in the steps its modules are named after:

``text`` (lines, doubled bold, paragraphs) → ``header`` (number, date, title) →
``structure`` (clause tree, stages) → ``duties`` (职责分工, lead office) →
``items`` (what is checkable, who leads it) → ``questions`` (one question a fact).
"""

from .draft import Draft, Excluded, NotAFieldCampaign, Summary, draft_from_text, generate
from .items import checkable_units, derive_prefix
from .model import Clause, Department, Notice, NoticeError, Stage, clause_citation, cn_number
from .notice import clean_text, parse_notice
from .yamlfile import dump_draft, dump_yaml

__all__ = [
    "Clause",
    "Department",
    "Draft",
    "Excluded",
    "NotAFieldCampaign",
    "Notice",
    "NoticeError",
    "Stage",
    "Summary",
    "checkable_units",
    "clause_citation",
    "clean_text",
    "cn_number",
    "derive_prefix",
    "dump_draft",
    "dump_yaml",
    "draft_from_text",
    "generate",
    "parse_notice",
]
