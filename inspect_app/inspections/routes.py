"""PUT/GET /inspections/{uuid}: the phone's offline inspections."""

from functools import wraps

from flask import current_app, g, request
from sqlalchemy.exc import IntegrityError

from inspect_app import formats
from inspect_app.api import Blueprint
from inspect_app.auth.guard import protected
from inspect_app.errors import BadRequest, Conflict
from inspect_app.extensions import db
from inspect_app.inspections import services
from inspect_app.inspections.body import load_plain_body
from inspect_app.inspections.schemas import (
    InspectionInSchema,
    InspectionOutSchema,
    InspectionResultSchema,
)

blp = Blueprint(
    "inspections", __name__, url_prefix="/api/v1/inspections", description="检查记录 Inspections"
)


# The transaction boundary's answer to the same failure (inspect_app/__init__.py).
CONCURRENT = "与同时提交的记录冲突，请重试"

UUID_PARAMETER = formats.path_parameter(
    "uuid",
    formats.UUID,
    "The inspection's UUID, made by the phone (capital or small hex digits)",
    "3f2b8c1e-6d4a-4f0e-9b7a-2c5d8e1f4a6b",
)


def _uuid(value: str) -> str:
    if not formats.matches(formats.UUID, value):
        raise BadRequest("检查编号不是有效的 UUID（形如 3f2b8c1e-6d4a-4f0e-9b7a-2c5d8e1f4a6b）")
    return value.lower()


def commit_or_conflict() -> None:
    """Commit the request's transaction now, as its boundary would (same 409 answer)."""
    try:
        db.session.commit()
    except IntegrityError:
        # A concurrent request stored the same thing first (unique key).
        db.session.rollback()
        raise Conflict(CONCURRENT) from None


def _inspection_body(view):
    """``@blp.arguments(InspectionInSchema)``, reading the plain body without the schema.

    The spec and every error are those of ``@blp.arguments``: a body that
    ``load_plain_body`` does not take goes through it unchanged.
    """
    through_schema = blp.arguments(InspectionInSchema)(view)

    @wraps(through_schema)
    def wrapper(*args, **kwargs):
        data = load_plain_body(request)
        if data is None:
            return through_schema(*args, **kwargs)
        return view(*args, data, **kwargs)

    return wrapper


@blp.route("/<uuid>", methods=["PUT"], parameters=[UUID_PARAMETER])
@_inspection_body
@blp.response(201, InspectionResultSchema, description="Stored for the first time")
@blp.alt_response(200, schema=InspectionResultSchema, description="A replay, or a draft replaced")
@blp.errors(400, 409, 422)
@protected(blp)
def put_inspection(data, uuid):
    """Create or replace the inspection the phone made offline; safe to retry."""
    result, created = services.put_inspection(
        g.current_user,
        _uuid(uuid),
        data,
        current_app.config["AUTH_CACHE_SECONDS"],
        commit_new=True,
    )
    # Committed here, before the answer is serialised: on SQLite the write lock is held
    # from the first insert to COMMIT, and the answer needs nothing more from the database.
    commit_or_conflict()
    return result, 201 if created else 200


@blp.route("/<uuid>", parameters=[UUID_PARAMETER])
@blp.response(200, InspectionOutSchema)
@blp.errors(400, 404)
@protected(blp)
def get_inspection(uuid):
    """The inspection as stored, with the photos still missing."""
    inspection = services.visible_inspection(g.current_user, _uuid(uuid))
    return services.inspection_view(inspection)
