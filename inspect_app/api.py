"""The OpenAPI-documented API object and the pieces every route module shares."""

from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import RAISE, Schema, fields
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request

from inspect_app import input_rules
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


class InspectParser(FlaskParser):
    """webargs' parser with the rules this API adds for query strings and JSON bodies.

    Unknown query parameters are a 422 like unknown body fields, and so is a parameter
    given twice that takes one value: a misspelt filter (``?distrcit=``) or a second
    ``district=`` must not be silently ignored. Text holding NUL is a 422: PostgreSQL
    cannot store it and SQLite would, so both refuse it alike.

    JSON is decoded by the one input rule (inspect_app.input_rules), which also refuses
    NUL and lone surrogates in bodies, and (before the view) in every query string.
    """

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": RAISE}

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return missing
        raw = req.get_data(cache=True)
        if not raw:
            return missing
        return input_rules.loads(raw)

    def load_querystring(self, req, schema):
        proxy = super().load_querystring(req, schema)
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
