"""Formats of identifiers, cursors and texts: one regex each, checked by the server and
published in the OpenAPI spec, so that what the spec allows and what the server takes
cannot drift apart.

Every pattern is written for both regex dialects that read it: Python's (the server,
and schemathesis in tests) and ECMA-262's (a client generated from the spec). So no
``\\d`` or ``\\s`` (Unicode in Python, ASCII in ECMA), only explicit classes; and the
server always matches the whole value (``fullmatch``), because ``$`` lets a trailing
newline through in Python.
"""

import re

from marshmallow import ValidationError, validate

from inspect_app.db_types import MAX_INT


def decimal_at_most(limit: int) -> str:
    """A regex (no anchors) for decimal strings of at most ``len(str(limit))`` ASCII digits
    whose value is at most ``limit``; leading zeros allowed."""
    digits = str(limit)
    shorter = f"[0-9]{{1,{len(digits) - 1}}}" if len(digits) > 1 else None
    same_length = []
    for i, ch in enumerate(digits):
        if ch != "0":
            rest = len(digits) - i - 1
            lower = "0" if ch == "1" else f"[0-{int(ch) - 1}]"
            tail = "" if not rest else "[0-9]" if rest == 1 else f"[0-9]{{{rest}}}"
            same_length.append(f"{digits[:i]}{lower}{tail}")
    same_length.append(digits)
    return "|".join(([shorter] if shorter else []) + same_length)


_UUID_BODY = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ROW_ID_BODY = decimal_at_most(MAX_INT)

# A photo's name: its SHA-256, 64 lowercase hex digits.
SHA256 = "^[0-9a-f]{64}$"
# A UUID as phones write it (iOS in capitals, Android in small letters), with hyphens.
UUID = f"^{_UUID_BODY}$"
# A row id in a path or a cursor: digits whose value fits an INTEGER column.
ROW_ID = f"^(?:{_ROW_ID_BODY})$"
# A finding in a path: the server's id or the phone's UUID.
FINDING_REF = f"^(?:{_ROW_ID_BODY}|{_UUID_BODY})$"
# A position in the change counter (sites' and findings' sync_seq, INTEGER columns).
SYNC_CURSOR = ROW_ID
# A page of findings: the last id of the previous page.
FINDING_CURSOR = ROW_ID


def char_class(chars, *, negate: bool = False) -> str:
    """A regex character class of ``chars`` (BMP only), as ranges of ``\\uXXXX`` escapes."""
    codes = sorted({ord(ch) for ch in chars})
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    body = "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)
    return f"[{'^' if negate else ''}{body}]"


# Text of the API: no NUL anywhere (PostgreSQL cannot store it; the parser refuses it).
NO_NUL = "^[^\\u0000]*$"


def containing(chars) -> str:
    """Text without NUL that holds at least one character not in ``chars``."""
    return f"^[^\\u0000]*{char_class([*chars, chr(0)], negate=True)}[^\\u0000]*$"


# A text holding something besides blanks (what ``text.strip()`` keeps).
NOT_BLANK = containing(ch for ch in map(chr, range(0x10000)) if ch.isspace())


def nullable(schema: dict) -> dict:
    """``schema``, or null (OpenAPI 3.0's ``nullable``)."""
    return {**schema, "nullable": True}


def null_only(json_type: str) -> dict:
    """Only null, for a property of type ``json_type`` (OpenAPI 3.0 has no "type: null")."""
    return {"type": json_type, "nullable": True, "enum": [None]}


# The spec's mark on a field whose value the server checks against stored records or
# against other fields, beyond what JSON Schema can say: a body valid by the schema may
# still be refused (422) for that field, and for no unmarked one.
CHECKED_AGAINST = "x-checked-against"


def checked_against(what: str) -> dict:
    return {CHECKED_AGAINST: what}


def matches(pattern: str, value: object) -> bool:
    """Whether the whole of ``value`` is a string of the format ``pattern``."""
    return isinstance(value, str) and re.fullmatch(pattern, value) is not None


class Matches(validate.Regexp):
    """marshmallow's Regexp (so apispec publishes the pattern), matching the whole value."""

    def __call__(self, value):
        if not isinstance(value, str) or self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


def path_parameter(name: str, pattern: str, description: str, example: str) -> dict:
    """The OpenAPI description of a path parameter the view checks against ``pattern``."""
    return {
        "in": "path",
        "name": name,
        "required": True,
        "description": description,
        "schema": {"type": "string", "pattern": pattern, "example": example},
    }
