"""PUT/GET /inspections/{uuid}: the phone's offline inspections."""

from flask import g

from inspect_app.api import Blueprint
from inspect_app.auth.guard import protected
from inspect_app.errors import BadRequest
from inspect_app.inspections import services
from inspect_app.inspections.schemas import (
    InspectionInSchema,
    InspectionOutSchema,
    InspectionResultSchema,
)

blp = Blueprint(
    "inspections", __name__, url_prefix="/api/v1/inspections", description="检查记录 Inspections"
)


def _uuid(value: str) -> str:
    import uuid as uuid_module

    try:
        return str(uuid_module.UUID(value))
    except ValueError:
        raise BadRequest("检查编号不是有效的 UUID") from None


@blp.route("/<uuid>", methods=["PUT"])
@blp.arguments(InspectionInSchema)
@blp.response(201, InspectionResultSchema, description="Stored for the first time")
@blp.alt_response(200, schema=InspectionResultSchema, description="A replay, or a draft replaced")
@blp.errors(400, 409, 422)
@protected(blp)
def put_inspection(data, uuid):
    """Create or replace the inspection the phone made offline; safe to retry."""
    result, created = services.put_inspection(g.current_user, _uuid(uuid), data)
    return result, 201 if created else 200


@blp.route("/<uuid>")
@blp.response(200, InspectionOutSchema)
@blp.errors(400, 404)
@protected(blp)
def get_inspection(uuid):
    """The inspection as stored, with the photos still missing."""
    inspection = services.visible_inspection(g.current_user, _uuid(uuid))
    return services.inspection_view(inspection)
