"""Photos: storing an upload (resumable), recording it, and who may see it."""

from flask import current_app
from sqlalchemy import String, cast, or_, select
from sqlalchemy.exc import IntegrityError

from inspect_app.audit import services as audit
from inspect_app.auth.models import User
from inspect_app.errors import NotFound, PayloadTooLarge, UnsupportedMediaType
from inspect_app.extensions import db
from inspect_app.findings.models import Finding, FindingPhoto, RectificationEvent
from inspect_app.photos import imaging
from inspect_app.photos.models import Photo
from inspect_app.photos.storage import MediaStore
from inspect_app.scope import district_filter


def media_store() -> MediaStore:
    store = current_app.extensions.get("inspect_media")
    if store is None:
        store = MediaStore(current_app.config["MEDIA_DIR"])
        current_app.extensions["inspect_media"] = store
    return store


def record_photo(store: MediaStore, sha256: str, size: int, user: User) -> tuple[Photo, bool]:
    """Make the variants and the Photo row for a complete original; returns (photo, created).

    A file that is not an image (by its content) or a decompression bomb is removed
    again, so nothing of a rejected upload stays on disk.
    """
    photo = db.session.get(Photo, sha256)
    if photo is not None:
        return photo, False
    try:
        info = imaging.process(store, sha256)
    except imaging.ImageTooLarge as exc:
        store.remove(sha256)
        raise PayloadTooLarge(str(exc)) from None
    except imaging.ImageRejected as exc:
        store.remove(sha256)
        raise UnsupportedMediaType(str(exc)) from None
    photo = Photo(
        sha256=sha256,
        content_type=info.content_type,
        size_bytes=size,
        width=info.width,
        height=info.height,
        taken_at=info.taken_at,
        lat=info.lat,
        lon=info.lon,
        uploaded_by_id=user.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(photo)
            audit.record(user.id, "photo.upload", "photo", sha256, {"bytes": size})
    except IntegrityError:
        # Another phone finished the same photo a moment earlier: same bytes, same row.
        db.session.expire_all()
        return db.session.get(Photo, sha256), False
    return photo, True


def visible_photo(user: User, sha256: str) -> Photo:
    """A photo the user uploaded, or that a finding or rectification in their districts names."""
    photo = db.session.get(Photo, sha256)
    if photo is None:
        raise NotFound("照片不存在")
    if user.role == "office" or photo.uploaded_by_id == user.id:
        return photo
    in_scope = district_filter(user, Finding.district)
    named = db.session.scalar(
        select(Finding.id)
        .outerjoin(FindingPhoto, FindingPhoto.finding_id == Finding.id)
        .outerjoin(RectificationEvent, RectificationEvent.finding_id == Finding.id)
        .where(
            in_scope,
            or_(
                FindingPhoto.sha256 == sha256,
                # Evidence photos sit in the event's JSON list; a hash is plain hex.
                cast(RectificationEvent.photos, String).contains(sha256),
            ),
        )
        .limit(1)
    )
    if named is None:
        raise NotFound("照片不存在")
    return photo


def photo_view(photo: Photo) -> dict:
    base = f"/api/v1/photos/{photo.sha256}"
    return {
        "sha256": photo.sha256,
        "content_type": photo.content_type,
        "size_bytes": photo.size_bytes,
        "width": photo.width,
        "height": photo.height,
        "taken_at": photo.taken_at,
        "lat": photo.lat,
        "lon": photo.lon,
        "url": f"{base}?variant=report",
        "thumbnail_url": f"{base}?variant=thumb",
        "original_url": f"{base}?variant=original",
    }
