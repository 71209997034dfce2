"""Field types for what the API takes in: times inside the plausible window, clean text.

Every schema that reads a time, a date or a free text from a request uses these
(and so does the inspection body's fast path, which reuses the schema's fields),
so one rule decides for all of them:

- a time or a date outside ``domain.EARLIEST_DATE`` … ``domain.LATEST_DATE`` is a
  422 on its JSON path, before anything converts it to UTC or adds days to it
  (``0001-01-01T00:00+08:00`` would overflow there);
- invisible format characters (Unicode category Cf: bidirectional overrides and
  isolates, zero-width spaces, the BOM …) are dropped from text, so "‮" cannot turn a
  site name around on a report, and a name pasted with a zero-width space is the
  name without it.
"""

import re
import sys
import unicodedata
from datetime import date, datetime

from marshmallow import ValidationError, fields, validate

from inspect_app.domain import EARLIEST_DATE, LATEST_DATE

# Format characters that real text of the region needs: the joiners (emoji sequences,
# and the shaping of Mongolian script, written in Haixi) and the Mongolian vowel
# separator. Free text keeps them; names, which are compared, do not.
_TEXT_NEEDS = frozenset("\u200c\u200d\u180e")


def _char_class(chars) -> str:
    return "".join(re.escape(ch) for ch in chars)


_FORMAT_CHARS = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
# Every format character (names), and every one but what text needs (free text).
ALL_INVISIBLE = re.compile(f"[{_char_class(_FORMAT_CHARS)}]")
INVISIBLE = re.compile(f"[{_char_class(ch for ch in _FORMAT_CHARS if ch not in _TEXT_NEEDS)}]")

WINDOW_MESSAGE = f"应在 {EARLIEST_DATE.isoformat()} 到 {LATEST_DATE.isoformat()} 之间"


def strip_invisible(value: str) -> str:
    """Free text without the invisible format characters it must not carry."""
    return INVISIBLE.sub("", value)


def in_window(day: date) -> bool:
    return EARLIEST_DATE <= day <= LATEST_DATE


# The window's years as the spec's pattern shows them: a client generated from the spec
# must not send a year the server refuses. The window starts on 1 January and ends on
# 31 December, so the years alone say it.
assert (EARLIEST_DATE.month, EARLIEST_DATE.day, LATEST_DATE.month, LATEST_DATE.day) == (
    1,
    1,
    12,
    31,
)
WINDOW_PATTERN = (
    "^(?:" + "|".join(str(year) for year in range(EARLIEST_DATE.year, LATEST_DATE.year + 1)) + ")-"
)


def _described(kwargs: dict, form: str) -> dict:
    """The field's metadata with the window in its description and pattern (the spec)."""
    metadata = dict(kwargs.pop("metadata", None) or {})
    own = metadata.get("description")
    window = f"{form}, {EARLIEST_DATE.isoformat()} .. {LATEST_DATE.isoformat()}"
    metadata["description"] = f"{own} ({window})" if own else window
    metadata.setdefault("pattern", WINDOW_PATTERN)
    return metadata


class Text(fields.String):
    """A free text: invisible format characters dropped, then the length checked.

    ``max_length`` (and ``min_length``) apply to the cleaned text, as stored.
    """

    def __init__(self, max_length: int | None = None, min_length: int = 0, **kwargs):
        given = kwargs.pop("validate", None) or []
        validators = [given] if callable(given) else list(given)
        if max_length is not None or min_length:
            validators.insert(0, validate.Length(min=min_length or None, max=max_length))
        super().__init__(validate=validators, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return strip_invisible(super()._deserialize(value, attr, data, **kwargs))


class Time(fields.AwareDateTime):
    """An ISO 8601 time with its offset, inside the plausible window.

    The window is judged on the wall-clock date as written, before any conversion:
    converting an out-of-range time to UTC is what overflows.
    """

    def __init__(self, **kwargs):
        super().__init__(metadata=_described(kwargs, "ISO 8601 with offset"), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        result = super()._deserialize(value, attr, data, **kwargs)
        if not in_window(result.replace(tzinfo=None).date()):
            raise ValidationError(f"时间{WINDOW_MESSAGE}")
        return result


class Day(fields.Date):
    """A calendar date (YYYY-MM-DD) inside the plausible window."""

    def __init__(self, **kwargs):
        super().__init__(metadata=_described(kwargs, "YYYY-MM-DD"), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> date:
        result = super()._deserialize(value, attr, data, **kwargs)
        if not in_window(result):
            raise ValidationError(f"日期{WINDOW_MESSAGE}")
        return result
