"""Photos: recording an upload, and who may see a photo or name it in a record.

Who may see a photo (its bytes, its time and place): the office; whoever proved to hold it
by uploading all its bytes (:class:`PhotoHolder`, the first uploader included); and anyone
in whose districts a finding or a rectification event names it. Knowing a photo's name, its
SHA-256, gives no right to it. So naming a photo in a finding or an event is allowed only to
someone who may see it already, or for a photo the server does not hold yet (the phone
uploads it later, as the contract allows); otherwise a name alone would open the photo to
the namer's districts (:func:`photo_problems`).
"""

from collections.abc import Iterable, Mapping

from flask import current_app
from sqlalchemy import String, cast, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from inspect_app.audit import services as audit
from inspect_app.auth.models import User
from inspect_app.errors import (
    Conflict,
    Invalid,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from inspect_app.extensions import db
from inspect_app.findings.models import Finding, FindingPhoto, RectificationEvent
from inspect_app.photos import imaging
from inspect_app.photos.models import Photo, PhotoHolder
from inspect_app.photos.storage import MediaStore, ReceiveResult
from inspect_app.scope import district_filter

NOT_USABLE = "照片不存在或无权使用；请先上传照片"
_INSERT_HOLDER = {
    name: dialect.insert(PhotoHolder).on_conflict_do_nothing()
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def media_store() -> MediaStore:
    store = current_app.extensions.get("inspect_media")
    if store is None:
        store = MediaStore(current_app.config["MEDIA_DIR"])
        current_app.extensions["inspect_media"] = store
    return store


def record_photo(
    store: MediaStore, received: ReceiveResult, user: User, *, whole: bool
) -> tuple[Photo, bool]:
    """The Photo row for an original the store holds; returns (photo, created).

    ``received`` is what ``store.receive`` answered; ``whole`` says that the request's body
    was the whole photo (no ``Content-Range`` resume), which proves that the user holds it.
    A resume that only completed a photo the server already had proves nothing, and is
    answered as if nothing were held (409, ``Upload-Offset: 0``) unless the user may see the
    photo anyway.

    Everything without the database comes first: on SQLite the first statement of a writing
    request takes the write lock that every other writer then waits for, so decoding and
    resizing (seconds for a large photo) are done before it, and the statements come last
    and short. If anything fails after this request installed the original, the original
    goes again, so that the store never holds a photo without its row; one left by a crash
    (or a failed commit) is not reported complete by HEAD and is recorded by the next PUT.
    """
    sha256 = received.sha256
    try:
        info = None
        if received.created or not _variants_on_disk(store, sha256):
            info = _process(store, sha256)
        photo = db.session.get(Photo, sha256)
        created = False
        if photo is None:
            if info is None:
                info = _read_info(store, sha256)
            uploader = user.id if (received.created or whole) else None
            photo, created = _insert(sha256, received.size, info, uploader, user.id)
    except BaseException:
        if received.created:
            store.remove(sha256)
        raise
    if received.created or whole:
        _add_holder(sha256, user.id)
    elif not _visible_names(user, [sha256]):
        raise Conflict(
            "续传位置不对：请从第 0 字节重新上传整张照片", headers={"Upload-Offset": "0"}
        )
    return photo, created


def _variants_on_disk(store: MediaStore, sha256: str) -> bool:
    return all(store.path(sha256, variant).is_file() for variant in ("report", "thumb", "print"))


def _process(store: MediaStore, sha256: str) -> imaging.PhotoInfo:
    """Check the original and write its variants; a file that is not an image (by its
    content) or a decompression bomb is removed again, so nothing of it stays on disk."""
    try:
        return imaging.process(store, sha256)
    except imaging.ImageTooLarge as exc:
        store.remove(sha256)
        raise PayloadTooLarge(str(exc)) from None
    except imaging.ImageRejected as exc:
        store.remove(sha256)
        raise UnsupportedMediaType(str(exc)) from None


def _read_info(store: MediaStore, sha256: str) -> imaging.PhotoInfo:
    try:
        return imaging.read_info(store.path(sha256))
    except imaging.ImageRejected as exc:
        # Variants of an original that is no photo cannot be: start again from nothing.
        store.remove(sha256)
        raise UnsupportedMediaType(str(exc)) from None


def _insert(
    sha256: str, size: int, info: imaging.PhotoInfo, uploader: int | None, actor: int
) -> tuple[Photo, bool]:
    photo = Photo(
        sha256=sha256,
        content_type=info.content_type,
        size_bytes=size,
        width=info.width,
        height=info.height,
        taken_at=info.taken_at,
        lat=info.lat,
        lon=info.lon,
        uploaded_by_id=uploader,
    )
    try:
        with db.session.begin_nested():
            db.session.add(photo)
            audit.record(actor, "photo.upload", "photo", sha256, {"bytes": size})
    except IntegrityError:
        # Another phone finished the same photo a moment earlier: same bytes, same row.
        db.session.expire_all()
        return db.session.get(Photo, sha256), False
    return photo, True


def _add_holder(sha256: str, user_id: int) -> None:
    connection = db.session.connection()
    connection.execute(
        _INSERT_HOLDER[connection.dialect.name], {"sha256": sha256, "user_id": user_id}
    )


def upload_state(store: MediaStore, user: User, sha256: str) -> tuple[int | None, bool]:
    """(bytes held, complete) as HEAD tells them to ``user``.

    A photo is complete only once it has its row, and only for a user who may see it; to
    anyone else the server holds nothing of it, so that their phone sends the whole photo
    (which proves they hold it) instead of learning its size. An original without a row
    (left by a failure) is not complete either: the phone's next PUT records it.
    """
    if store.has_original(sha256):
        photo = db.session.get(Photo, sha256)
        if photo is not None and _visible_names(user, [sha256]):
            return photo.size_bytes, True
        return None, False
    return store.held_bytes(sha256), False


def visible_photo(user: User, sha256: str) -> Photo:
    """The photo, if ``user`` may see it (see the module docstring); else NotFound."""
    photo = db.session.get(Photo, sha256)
    if photo is None or not _visible_names(user, [sha256]):
        raise NotFound("照片不存在")
    return photo


def photo_problems(user: User, named: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """The JSON paths of ``named`` (path -> photo names) that name a photo the server holds
    and ``user`` may not see, each with the message for the phone.

    A photo the server does not hold yet is no problem: the phone uploads it later. A phone
    that really has a photo someone else uploaded first uploads it too (its bytes prove it
    holds them), then names it."""
    wanted = sorted({sha for names in named.values() for sha in names})
    if not wanted or user.role == "office":
        return {}
    held = set(db.session.scalars(select(Photo.sha256).where(Photo.sha256.in_(wanted))))
    barred = held - _visible_names(user, sorted(held)) if held else set()
    return {path: [NOT_USABLE] for path, names in named.items() if barred.intersection(names)}


def finding_photo_problems(user: User, inspection: dict) -> dict[str, list[str]]:
    """:func:`photo_problems` of an inspection body's findings, by JSON path."""
    return photo_problems(
        user,
        {f"findings[{i}].photos": f["photos"] for i, f in enumerate(inspection["findings"])},
    )


def refuse_unusable(user: User, named: Mapping[str, Iterable[str]]) -> None:
    """Raise Invalid (422) if :func:`photo_problems` finds any."""
    problems = photo_problems(user, named)
    if problems:
        raise Invalid(NOT_USABLE, fields=problems)


def _visible_names(user: User, names: list[str]) -> set[str]:
    """Of these photo names, those ``user`` may see (whether held or not)."""
    if user.role == "office" or not names:
        return set(names)
    seen = set(
        db.session.scalars(
            select(Photo.sha256).where(Photo.sha256.in_(names), Photo.uploaded_by_id == user.id)
        )
    )
    seen |= set(
        db.session.scalars(
            select(PhotoHolder.sha256).where(
                PhotoHolder.sha256.in_(names), PhotoHolder.user_id == user.id
            )
        )
    )
    rest = [sha for sha in names if sha not in seen]
    if not rest:
        return seen
    in_scope = district_filter(user, Finding.district)
    seen |= set(
        db.session.scalars(
            select(FindingPhoto.sha256)
            .join(Finding, Finding.id == FindingPhoto.finding_id)
            .where(in_scope, FindingPhoto.sha256.in_(rest))
        )
    )
    rest = [sha for sha in rest if sha not in seen]
    if not rest:
        return seen
    # Evidence photos sit in the event's JSON list; a name is plain hex.
    listed = db.session.scalars(
        select(RectificationEvent.photos)
        .join(Finding, Finding.id == RectificationEvent.finding_id)
        .where(in_scope, or_(*(cast(RectificationEvent.photos, String).contains(s) for s in rest)))
    )
    wanted = set(rest)
    for photos in listed:
        seen |= wanted.intersection(photos or [])
    return seen


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
