"""Domain exceptions and the one error body every failure answers with.

Services raise the typed exceptions below; one handler per type turns them into
``{"error": {"code", "message", "fields"}}`` (see API-CONTRACT.md). Messages are
Chinese because they are shown to the inspector. A stack trace never reaches a
client: anything unexpected is logged and answered as ``internal_error``.
"""

import logging
import re
from collections.abc import Callable

from flask import Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from inspect_app.field_labels import describe

log = logging.getLogger(__name__)


class DomainError(Exception):
    status = 400
    code = "bad_request"
    default_message = "请求有误"

    def __init__(self, message: str | None = None, *, fields: dict | None = None, headers=None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.fields = fields
        self.headers = headers or {}


class BadRequest(DomainError):
    status, code, default_message = 400, "bad_request", "请求格式有误"


class Unauthorized(DomainError):
    status, code, default_message = 401, "unauthorized", "请先登录"


class Forbidden(DomainError):
    status, code, default_message = 403, "forbidden", "没有权限执行此操作"


class NotFound(DomainError):
    status, code, default_message = 404, "not_found", "未找到该记录"


class Conflict(DomainError):
    status, code, default_message = 409, "conflict", "与已有记录冲突"


class PayloadTooLarge(DomainError):
    status, code, default_message = 413, "payload_too_large", "上传内容过大"


class UnsupportedMediaType(DomainError):
    status, code, default_message = 415, "unsupported_media_type", "不支持的文件类型"


class Invalid(DomainError):
    status, code, default_message = 422, "validation_error", "提交的数据有误"


class RateLimited(DomainError):
    status, code, default_message = 429, "rate_limited", "尝试次数过多，请稍后再试"


# Status codes werkzeug or flask-smorest may raise on their own, mapped to contract codes.
HTTP_CODES = {
    400: ("bad_request", "请求格式有误"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "未找到该记录"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "与已有记录冲突"),
    411: ("length_required", "缺少 Content-Length"),
    412: ("precondition_failed", "前置条件不满足"),
    413: ("payload_too_large", "上传内容过大"),
    415: ("unsupported_media_type", "不支持的文件类型"),
    416: ("range_not_satisfiable", "请求的字节范围无效"),
    422: ("validation_error", "提交的数据有误"),
    429: ("rate_limited", "尝试次数过多，请稍后再试"),
}

# marshmallow's English messages, in the inspector's language.
_TRANSLATIONS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"^Missing data for required field\.$"), "必填项"),
    (re.compile(r"^Field may not be null\.$"), "不能为空"),
    (re.compile(r"^Unknown field\.$"), "未知字段"),
    (re.compile(r"^Not a valid string\.$"), "应为文本"),
    (re.compile(r"^Not a valid integer\.$"), "应为整数"),
    (re.compile(r"^Not a valid number\.$"), "应为数字"),
    (re.compile(r"^Not a valid boolean\.$"), "应为 true 或 false"),
    (re.compile(r"^Not a valid list\.$"), "应为列表"),
    (re.compile(r"^Not a valid mapping type\.$"), "应为对象"),
    (re.compile(r"^Invalid input type\.$"), "应为对象"),
    (re.compile(r"^Not a valid UUID\.$"), "不是有效的 UUID"),
    (re.compile(r"^Not a valid date\.$"), "不是有效的日期 (YYYY-MM-DD)"),
    (re.compile(r"^Not a valid datetime\.$"), "不是有效的时间 (ISO 8601，带时区)"),
    (re.compile(r"^Not a valid aware datetime\.$"), "时间必须带时区，例如 +08:00"),
    (re.compile(r"^Must be one of: (.*)\.$"), r"只能是以下之一：\1"),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), r"长度应在 \1 到 \2 之间"),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), r"长度不能少于 \1"),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), r"长度不能超过 \1"),
    (
        re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
        r"应在 \1 到 \2 之间",
    ),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"), r"不能小于 \1"),
    (re.compile(r"^Must be less than or equal to (\S+)\.$"), r"不能大于 \1"),
    (re.compile(r"^Invalid value\.$"), "无效的值"),
]


def translate(message: str) -> str:
    for pattern, replacement in _TRANSLATIONS:
        if pattern.match(message):
            return pattern.sub(replacement, message)
    return message


def flatten_messages(messages, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into ``{"findings[0].deadline": ["…"]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                path = f"{prefix}[{key}]"
            elif key == "_schema":
                path = prefix or "_schema"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            for p, msgs in flatten_messages(value, path).items():
                out.setdefault(p, []).extend(msgs)
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            out[prefix or "_schema"] = [translate(m) for m in messages]
        else:
            for m in messages:
                for p, msgs in flatten_messages(m, prefix).items():
                    out.setdefault(p, []).extend(msgs)
    else:
        out[prefix or "_schema"] = [translate(str(messages))]
    return out


def error_response(status: int, code: str, message: str, fields=None, headers=None):
    body = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


ErrorPage = Callable[[int, str], object]


def add_error_page(app: Flask, prefix: str, render: ErrorPage) -> None:
    """Answer errors under ``prefix`` with ``render(status, message)`` instead of JSON.

    The dashboard registers its page here when its blueprint is registered: this floor
    knows no page, so the pages' floor can import it, never the other way round.
    """
    app.extensions.setdefault("inspect_error_pages", []).append((prefix, render))


def _dashboard_page(status: int, message: str):
    """The dashboard's pages answer errors with a page, not the API's JSON body."""
    for prefix, render in current_app.extensions.get("inspect_error_pages", ()):
        if request.path.startswith(prefix):
            return render(status, message)
    return None


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(exc: DomainError):
        return error_response(exc.status, exc.code, exc.message, exc.fields, exc.headers)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        status = exc.code or 500
        code, message = HTTP_CODES.get(status, ("http_error", exc.description or "请求失败"))
        fields = None
        data = getattr(exc, "data", None) or {}
        messages = data.get("messages") if isinstance(data, dict) else None
        if status == 400 and messages:
            # Malformed JSON or parameters: a plain 400, fields are only for validation.
            messages = None
            message = "请求格式有误：请求体不是有效的 JSON，或参数格式不正确"
        if messages:
            # webargs nests by location ({"json": {...}, "query": {...}}); the phone wants
            # paths into its own body, so the location level is dropped.
            flat: dict[str, list[str]] = {}
            for location, msgs in messages.items():
                for path, texts in flatten_messages(msgs).items():
                    flat.setdefault(path if location in ("json", "query") else path, []).extend(
                        texts
                    )
            fields = flat
            if status == 422:
                message = describe("提交的数据有误", flat)
        page = _dashboard_page(status, message)
        if page is not None:
            return page
        headers = dict(exc.get_headers()) if status == 405 else None
        if headers:
            headers = {k: v for k, v in headers.items() if k.lower() == "allow"}
        return error_response(status, code, message, fields, headers)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        log.exception("unhandled error")
        page = _dashboard_page(500, "服务器内部错误，请稍后重试")
        if page is not None:
            return page
        return error_response(500, "internal_error", "服务器内部错误，请稍后重试")
