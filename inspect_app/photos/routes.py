"""PUT/HEAD/GET /photos/{sha256}: content-addressed, resumable photo upload.

Resumable upload: ``HEAD`` answers ``Upload-Offset`` (bytes the server holds) and
``Upload-Complete``; a ``PUT`` with ``Content-Range: bytes N-M/T`` appends from
byte N, which must equal ``Upload-Offset``. A plain ``PUT`` sends the whole photo.
A ``PUT`` that leaves the photo short of its ``T`` bytes (a part sent on purpose, or
a body cut off) is no error: the bytes are kept, and the answer is ``204`` with the
same two headers as ``HEAD`` (as the IETF resumable-upload draft answers an append
that does not complete the upload).
"""

import re

from flask import Response, current_app, g, request, send_file
from flask.views import MethodView

from inspect_app import formats
from inspect_app.api import Blueprint
from inspect_app.auth.guard import protected
from inspect_app.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from inspect_app.photos import services, storage
from inspect_app.photos.schemas import PhotoSchema, VariantQuerySchema

blp = Blueprint("photos", __name__, url_prefix="/api/v1/photos", description="照片 Photos")

CONTENT_RANGE = "^bytes ([0-9]+)-([0-9]+)/([0-9]+)$"
ACCEPTED_TYPES = {"image/jpeg", "image/png", "image/heic", "image/heif", "application/octet-stream"}
UPLOAD_HEADERS = {
    "Upload-Offset": {
        "description": "bytes of this photo the server holds",
        "schema": {"type": "integer"},
    },
    "Upload-Complete": {
        "description": "?1 when the photo is complete, ?0 while partial",
        "schema": {"type": "string"},
    },
}


SHA256_PARAMETER = formats.path_parameter(
    "sha256",
    formats.SHA256,
    "The SHA-256 of the photo's bytes, in lowercase hex",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
)


def _sha(sha256: str) -> str:
    if not formats.matches(formats.SHA256, sha256):
        raise BadRequest("照片编号应为 64 位小写十六进制 SHA-256")
    return sha256


def _upload_range(max_bytes: int) -> tuple[int, int | None]:
    """(offset, total) from Content-Range, or (0, Content-Length) for a whole-body PUT."""
    header = request.headers.get("Content-Range")
    if header is None:
        return 0, request.content_length
    match = re.fullmatch(CONTENT_RANGE, header.strip())
    if not match:
        raise BadRequest("Content-Range 格式应为 bytes 起-止/总长")
    first, last, total = (int(x) for x in match.groups())
    if last < first or last >= total:
        raise BadRequest("Content-Range 的字节范围无效")
    if total > max_bytes:
        raise PayloadTooLarge(f"照片文件超过 {max_bytes // 2**20} MB 的上限")
    if request.content_length is not None and request.content_length != last - first + 1:
        raise BadRequest("Content-Range 与 Content-Length 不一致")
    return first, total


@blp.route("/<sha256>", parameters=[SHA256_PARAMETER])
class PhotoResource(MethodView):
    @blp.response(201, PhotoSchema, description="Stored now")
    @blp.alt_response(200, schema=PhotoSchema, description="The server already had it")
    @blp.alt_response(
        204,
        headers=UPLOAD_HEADERS,
        description=(
            "Part of the photo kept (Upload-Complete ?0): send the rest from Upload-Offset "
            "with Content-Range"
        ),
    )
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}}
                for t in ("image/jpeg", "image/png", "image/heic")
            },
        },
        parameters=[
            {
                "in": "header",
                "name": "Content-Range",
                "required": False,
                "schema": {
                    "type": "string",
                    "pattern": CONTENT_RANGE,
                    "example": "bytes 524288-1048575/1048576",
                },
                "description": (
                    "Resume: append bytes N-M of the photo (N = Upload-Offset from HEAD; the "
                    "body holds exactly those M - N + 1 bytes) of T in all"
                ),
            }
        ],
    )
    @blp.errors(400, 409, 413, 415)
    @protected(blp)
    def put(self, sha256):
        """Upload a photo's bytes (whole, or the rest of an interrupted upload)."""
        sha256 = _sha(sha256)
        max_bytes = current_app.config["MAX_PHOTO_BYTES"]
        media_type = (request.mimetype or "").lower()
        if media_type and media_type not in ACCEPTED_TYPES:
            raise UnsupportedMediaType(
                f"不支持的文件类型 {media_type}：只接受 JPEG、PNG、HEIC 照片"
            )
        offset, total = _upload_range(max_bytes)
        if total is not None and total > max_bytes:
            raise PayloadTooLarge(f"照片文件超过 {max_bytes // 2**20} MB 的上限")
        store = services.media_store()
        try:
            received = store.receive(
                sha256, request.stream, offset=offset, total=total, max_bytes=max_bytes
            )
        except storage.TooLarge as exc:
            raise PayloadTooLarge(str(exc)) from None
        except storage.HashMismatch as exc:
            raise BadRequest(str(exc)) from None
        except (storage.OffsetMismatch, storage.UploadBusy) as exc:
            raise Conflict(str(exc), headers={"Upload-Offset": str(exc.held)}) from None
        except storage.Incomplete as exc:
            return Response(
                status=204,
                headers={"Upload-Offset": str(exc.received), "Upload-Complete": "?0"},
            )
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        photo, created = services.record_photo(store, received, g.current_user, whole=offset == 0)
        return services.photo_view(photo), 201 if created else 200

    @blp.response(200, headers=UPLOAD_HEADERS, description="What the server holds")
    @blp.errors(400, 404)
    @protected(blp)
    def head(self, sha256):
        """How many bytes of the photo the server holds, to resume an upload from there."""
        sha256 = _sha(sha256)
        held, complete = services.upload_state(services.media_store(), g.current_user, sha256)
        if held is None:
            raise NotFound("服务器上没有这张照片")
        return (
            "",
            200,
            {
                "Upload-Offset": str(held),
                "Upload-Complete": "?1" if complete else "?0",
            },
        )

    @blp.arguments(VariantQuerySchema, location="query")
    @blp.response(
        200,
        description="The image bytes",
        content_type="image/jpeg",
    )
    @blp.errors(400, 404, 422)
    @protected(blp)
    def get(self, query, sha256):
        """The photo: report (~1600 px), thumb (~320 px) or the original upload."""
        sha256 = _sha(sha256)
        photo = services.visible_photo(g.current_user, sha256)
        variant = query["variant"]
        path = services.media_store().path(sha256, variant)
        if not path.is_file():
            raise NotFound("照片文件缺失")
        mimetype = photo.content_type if variant == "original" else "image/jpeg"
        response = send_file(path, mimetype=mimetype, conditional=True, max_age=86400 * 365)
        response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
        return response
