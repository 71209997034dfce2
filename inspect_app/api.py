"""The OpenAPI-documented API object and the pieces every route module shares."""

from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import Schema, fields

from inspect_app.errors import HTTP_CODES


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


class Blueprint(SmorestBlueprint):
    """flask-smorest Blueprint that documents error responses by status code."""

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
