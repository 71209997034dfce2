"""Checklists from campaign notices: pure text in, checklist out (no Flask, no database).

The reviewed checklists the project ships lie beside this package as
``checklists/<code>.yaml``. The generator reads a notice (通知 + 工作方案) as a PDF
extractor left it, in the steps its modules are named after:

``text`` (lines, page furniture, doubled bold, paragraphs) → ``header`` (number,
date, title, issuer, addressees, wherever printed) → ``structure`` (clause tree,
stages, attachments) → ``duties`` (职责分工, lead office, who leads an item) →
``items`` (from tasks, duties and check tables; what is left out) → ``questions``
(one question a fact). ``rules`` holds the tables a reviewer extends (what is
organisational, how a directive becomes a question, which matters belong to
which kind of department); ``draft`` gives the answer with its fit check.

The public calls: ``parse_notice(text)``, ``generate(notice, code, prefix)`` →
:class:`Draft`, ``draft_from_text(text, code)`` for an upload (it raises
:class:`NoticeError` or :class:`NotAFieldCampaign`, each with one Chinese
``message``: an API answers 422 with it), ``dump_draft(draft)`` for the YAML.
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
