"""The OpenAPI-documented API object and the pieces every route module shares."""

from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import RAISE, Schema, fields
from webargs.flaskparser import FlaskParser

from inspect_app.errors import HTTP_CODES, Invalid


class ErrorDetailSchema(Schema):
    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True, metadata={"example": "提交的数据有误"})
    fields = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Only for validation errors: JSON path → messages"},
    )


class ErrorBodySchema(Schema):
    """The one error body of API-CONTRACT.md."""

    error = fields.Nested(ErrorDetailSchema, required=True)


class InspectApi(Api):
    """flask-smorest's Api with the contract's error body in the spec.

    Error *handling* stays in inspect_app.errors (registered after this object,
    so it overrides flask-smorest's own handler); this class only makes the
    documented error responses match what the handlers send.
    """

    ERROR_SCHEMA = ErrorBodySchema


BEARER = [{"bearerAuth": []}]

SPEC_KWARGS = {
    "info": {
        "description": (
            "格尔木市专项整治现场检查后端：检查清单、离线同步、问题整改跟踪与问题清单。\n\n"
            'Every error answers `{"error": {"code", "message", "fields"}}`.'
        )
    },
    "components": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
    },
}


def _nul_paths(value, path: str = "") -> list[str]:
    """JSON paths of the texts in ``value`` that hold a NUL character."""
    if isinstance(value, str):
        return [path or "_schema"] if "\x00" in value else []
    if isinstance(value, dict):
        items = ((f"{path}.{key}" if path else str(key), v) for key, v in value.items())
    elif isinstance(value, list):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return []
    return [found for sub, v in items for found in _nul_paths(v, sub)]


class InspectParser(FlaskParser):
    """webargs' parser with the rules this API adds for query strings and JSON bodies.

    Unknown query parameters are a 422 like unknown body fields, and so is a parameter
    given twice that takes one value: a misspelt filter (``?distrcit=``) or a second
    ``district=`` must not be silently ignored. Text holding NUL is a 422: PostgreSQL
    cannot store it and SQLite would, so both refuse it alike.
    """

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": RAISE}

    def load_json(self, req, schema):
        data = super().load_json(req, schema)
        _refuse_nul(data)
        return data

    def load_querystring(self, req, schema):
        proxy = super().load_querystring(req, schema)
        _refuse_nul({name: "".join(values) for name, values in req.args.lists()})
        repeated = [
            name
            for name, values in req.args.lists()
            if len(values) > 1 and name not in proxy.multiple_keys
        ]
        if repeated:
            raise Invalid(
                "提交的数据有误：参数重复",
                fields={name: ["只能填写一个值"] for name in repeated},
            )
        return proxy


def _refuse_nul(data) -> None:
    paths = _nul_paths(data)
    if paths:
        raise Invalid(
            "提交的数据有误：含有 NUL 控制字符",
            fields={p: ["不能包含 NUL 控制字符"] for p in paths},
        )


class Blueprint(SmorestBlueprint):
    """flask-smorest Blueprint that documents error responses by status code."""

    ARGUMENTS_PARSER = InspectParser()

    def errors(self, *statuses: int):
        """Document the error statuses a view may answer, with the contract's body."""

        def decorator(func):
            for status in statuses:
                func = self.alt_response(
                    status,
                    schema=ErrorBodySchema,
                    description=HTTP_CODES.get(status, ("", ""))[1],
                )(func)
            return func

        return decorator
