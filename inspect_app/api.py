"""The OpenAPI-documented API object and the pieces every route module shares."""

from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from apispec.ext.marshmallow.common import resolve_schema_instance
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import RAISE, Schema, fields
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request

from inspect_app import formats, input_rules
from inspect_app.errors import HTTP_CODES, Invalid
from inspect_app.field_labels import describe


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


def _null_means_null(self, field, ret, **_kwargs) -> dict:
    """A nullable nested object is that object or null, not "any object or null".

    apispec writes ``anyOf: [{"type": "object", "nullable": true}, {"$ref": …}]`` for
    OpenAPI 3.0, whose first branch takes every object; ``enum: [null]`` narrows it to null.
    """
    for branch in ret.get("anyOf", ()):
        if branch == {"type": "object", "nullable": True}:
            branch["enum"] = [None]
    return {}


def _text_without_nul(self, field, ret, **_kwargs) -> dict:
    """Every text the parser reads refuses NUL (``InspectParser``): the spec says so too."""
    if ret.get("type") == "string" and "pattern" not in ret and "format" not in ret:
        if "enum" not in ret:
            return {"pattern": formats.NO_NUL}
    return {}


class _Converter(OpenAPIConverter):
    def schema2jsonschema(self, schema):
        """A schema's own JSON Schema rules join its fields': ``openapi_rules()``, for the
        cross-field rules its ``validates_schema`` checks (JSON Schema's oneOf, not …)."""
        jsonschema = super().schema2jsonschema(schema)
        rules = getattr(resolve_schema_instance(schema), "openapi_rules", None)
        if rules is not None:
            jsonschema.update(rules())
        return jsonschema


class _MarshmallowPlugin(MarshmallowPlugin):
    Converter = _Converter

    def init_spec(self, spec):
        super().init_spec(spec)
        self.converter.add_attribute_function(_null_means_null)
        self.converter.add_attribute_function(_text_without_nul)


class InspectApi(Api):
    """flask-smorest's Api with the contract's error body in the spec.

    Error *handling* stays in inspect_app.errors (registered after this object,
    so it overrides flask-smorest's own handler); this class only makes the
    documented error responses match what the handlers send, and the documented
    bodies hold every rule the schemas check (see ``_Converter``).
    """

    ERROR_SCHEMA = ErrorBodySchema

    def _init_spec(self, **options):
        super()._init_spec(marshmallow_plugin=_MarshmallowPlugin(), **options)


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
            problems = {name: ["只能填写一个值"] for name in repeated}
            raise Invalid(describe("提交的数据有误：参数重复", problems), fields=problems)
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
