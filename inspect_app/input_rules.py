"""The one rule for what a request may carry, applied to every JSON body, query and form.

JSON bodies are decoded only by :func:`loads` (Flask's JSON provider, webargs' parser
and the inspection body's fast path all call it); query strings and form fields are
checked by :func:`check_texts`. What the rule refuses would otherwise reach code that
cannot handle it and answer 500:

- text with NUL (PostgreSQL cannot store or even compare it) or a lone UTF-16 surrogate
  (``"\\ud800"`` is valid JSON but no character: it cannot be encoded as UTF-8, so the
  database, the answer's own JSON and the PDFs would fail on it);
- integers beyond 64 bits (a 5,000-digit number), and NaN or infinities (not JSON);
- nesting deeper than :data:`MAX_DEPTH` (no body of this API needs more than four
  levels; 10,000 levels would exhaust the recursion of any recursive reader).

Malformed JSON and absurd nesting are a 400 (``bad_request``); a value the rule refuses
is a 422 (``validation_error``) that names its JSON path, like a schema error.
"""

import json
import math
import re

from inspect_app.errors import BadRequest, Invalid
from inspect_app.field_labels import describe

MAX_DEPTH = 32
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
# Text that no field of this API may hold: NUL and lone surrogates.
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")

NOT_JSON = "请求格式有误：请求体不是有效的 JSON（UTF-8）"
TOO_DEEP = f"请求格式有误：JSON 嵌套层数过多（最多 {MAX_DEPTH} 层）"


class _Refused:
    """A value the decoder met and the rule refuses; reported with its path after decoding."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


_NOT_A_NUMBER = _Refused("应为有限的数字（不接受 NaN 或 Infinity）")
_TOO_BIG = _Refused(f"数值超出范围（应在 {INT_MIN} 到 {INT_MAX} 之间）")


def _parse_int(text: str):
    # Checked on the text first: int() of thousands of digits is slow, and Python refuses
    # more than 4,300 digits with a ValueError of its own.
    if len(text) > 20:
        return _TOO_BIG
    value = int(text)
    return value if INT_MIN <= value <= INT_MAX else _TOO_BIG


def _parse_float(text: str):
    value = float(text)
    return value if math.isfinite(value) else _NOT_A_NUMBER


def _parse_constant(_text: str):
    return _NOT_A_NUMBER


_DECODER = json.JSONDecoder(
    parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
)


class _Refusal(Exception):
    """A number the rule refuses, met by the first decoding (which has no paths)."""


def _strict(parse):
    def parse_or_refuse(text: str):
        value = parse(text)
        if type(value) is _Refused:
            raise _Refusal
        return value

    return parse_or_refuse


# The first decoding of every body: plain values, or _Refusal at a refused number. Only
# then is the body decoded again with the paths of what is refused (``_problems``).
_FIRST = json.JSONDecoder(
    parse_int=_strict(_parse_int),
    parse_float=_strict(_parse_float),
    parse_constant=_strict(_parse_constant),
)
# In JSON text, NUL and lone surrogates can only come as escapes (raw NUL is not JSON, and
# UTF-8 cannot carry a surrogate): a body whose escapes name neither holds no refused text.
_BAD_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def text_problem(value: str) -> str | None:
    """Why a text may not be stored, or None."""
    found = _BAD_TEXT.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "不能包含 NUL 控制字符"
    return "含有无效的 Unicode 字符（单独的代理项）"


def printable(name: str) -> str:
    """A name (JSON key, parameter) made safe to echo back in an error body."""
    return _BAD_TEXT.sub("\ufffd", name)


def loads(raw: bytes | str):
    """Decode a JSON body under the rule: BadRequest (400) or Invalid (422) if refused."""
    encoded = isinstance(raw, bytes | bytearray)
    try:
        text = raw.decode("utf-8") if encoded else raw
        try:
            value = _FIRST.decode(text)
        except _Refusal:
            value = _DECODER.decode(text)
        else:
            clean = "\\u" not in text or _BAD_ESCAPE.search(text) is None
            if clean and (encoded or _BAD_TEXT.search(text) is None):
                # Nothing refused is in it; it nests no deeper than its brackets.
                if text.count("{") + text.count("[") > MAX_DEPTH:
                    _check_depth(value)
                return value
    except RecursionError:
        raise BadRequest(TOO_DEEP) from None
    except ValueError:
        # Also bad UTF-8 (UnicodeDecodeError is a ValueError).
        raise BadRequest(NOT_JSON) from None
    problems = _problems(value)
    if problems:
        raise Invalid(_message(problems), fields=problems)
    return value


def _check_depth(value) -> None:
    """BadRequest (400) if containers nest deeper than MAX_DEPTH; walks containers only."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequest(TOO_DEEP)
        for child in node.values() if type(node) is dict else node:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))


def _problems(value) -> dict[str, list[str]]:
    """JSON path -> why, for every refused value; walks without recursion."""
    problems: dict[str, list[str]] = {}
    stack = [(value, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        kind = type(node)
        if kind is str:
            problem = text_problem(node)
            if problem:
                problems.setdefault(path or "_schema", []).append(problem)
        elif kind is dict or kind is list:
            if depth > MAX_DEPTH:
                raise BadRequest(TOO_DEEP)
            if kind is dict:
                for key, child in node.items():
                    sub = f"{path}.{printable(key)}" if path else printable(key)
                    problem = text_problem(key)
                    if problem:
                        problems.setdefault(sub, []).append("字段名" + problem)
                    if type(child) in _CONTAINERS_AND_CHECKED:
                        stack.append((child, sub, depth + 1))
            else:
                for index, child in enumerate(node):
                    if type(child) in _CONTAINERS_AND_CHECKED:
                        stack.append((child, f"{path}[{index}]", depth + 1))
        elif kind is _Refused:
            problems.setdefault(path or "_schema", []).append(node.reason)
    return problems


_CONTAINERS_AND_CHECKED = frozenset((str, dict, list, _Refused))


def _message(problems: dict[str, list[str]]) -> str:
    return describe("提交的数据有误", problems)


def check_texts(pairs) -> None:
    """Invalid (422) if a query parameter or form field, name or value, breaks the rule.

    ``pairs`` are ``(name, value)``; the answer names each offending parameter.
    """
    problems: dict[str, list[str]] = {}
    for name, value in pairs:
        problem = text_problem(name) or (text_problem(value) if isinstance(value, str) else None)
        if problem:
            problems.setdefault(printable(name), []).append(problem)
    if problems:
        raise Invalid(_message(problems), fields=problems)
