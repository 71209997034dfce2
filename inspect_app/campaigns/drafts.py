"""The one door from the office's draft workflow to the checklist generator.

The dashboard and the API turn a notice's text into a draft checklist only through
``draft_from_text``; the generator behind it (today ``campaigns.notice`` and
``campaigns.generator``) can move or be rewritten without the workflow noticing.
"""

from inspect_app.campaigns.generator import dump_yaml, generate_checklist
from inspect_app.campaigns.notice import NoticeError, parse_notice

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
        checklist = generate_checklist(parse_notice(text, source=f"{code}.txt"), code, prefix)
    except NoticeError as exc:
        raise DraftError(exc.message, exc.line) from None
    items = checklist["items"]
    excluded = list(checklist.get("excluded") or [])
    summary = dict(checklist.get("summary") or {})
    summary.setdefault("items", len(items))
    summary.setdefault("excluded", len(excluded))
    summary.setdefault("without_lead", sum(1 for i in items if not i.get("lead_department")))
    return {
        "campaign": checklist["campaign"],
        "items": items,
        "excluded": excluded,
        "summary": summary,
    }
