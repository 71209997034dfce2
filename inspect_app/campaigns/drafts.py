"""The one door from the office's draft workflow to the checklist generator.

The dashboard and the API turn a notice's text into a draft checklist only through
``draft_from_text``; the generator behind it (the top-level ``checklists`` package,
pure text in and checklist out) can change without the workflow noticing.
"""

from dataclasses import asdict

import checklists
from checklists import NoticeError, dump_yaml

__all__ = ["DraftError", "draft_from_text", "dump_yaml"]


class DraftError(ValueError):
    """The notice gives no usable draft; ``message`` says why, in Chinese, for the office."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.message = message
        self.line = line
        super().__init__(message)


def draft_from_text(text: str, code: str, prefix: str | None = None) -> dict:
    """A draft checklist ``{campaign, items, excluded, summary}`` made from a notice's text.

    ``campaign`` and ``items`` have the shape of ``checklists/<code>.yaml``; ``excluded``
    lists what the generator left out and why (empty when it says nothing), ``summary``
    counts what a reviewer checks first.
    """
    if not text.strip():
        raise DraftError("通知内容为空：请上传通知全文（PDF 或文本）")
    try:
        draft = checklists.draft_from_text(text, code, prefix, source=f"{code}.txt")
    except NoticeError as exc:  # NotAFieldCampaign too: one Chinese sentence
        raise DraftError(exc.message, exc.line) from None
    items = draft.items
    summary = {
        "items": draft.summary.items,
        "excluded": draft.summary.excluded,
        "without_lead": draft.summary.without_lead,
        "regulator_only": draft.summary.regulator_only,
        "missing": list(draft.summary.missing),
        "sentence": draft.summary.sentence,
    }
    return {
        "campaign": draft.campaign,
        "items": items,
        "excluded": [asdict(part) for part in draft.excluded],
        "summary": summary,
    }
