"""A submission of ODK Collect, KoboCollect or Enketo, mapped onto an inspection.

The XML (``xml_submission_file``) is the instance of a form made from a checklist
(``form_names``); the photos are the other parts of the post, named by file name. The
instance becomes the body of ``PUT /inspections/{uuid}`` (the UUID is the instanceID),
checked by the same schema and stored by the same service, and each photo goes through
the same checks as ``PUT /photos/{sha256}``: one inspection, its findings, its events
and its audit entries, exactly as if the phone app had sent them.

How the posts of one instance relate (as ODK Central answers them):

- a new instanceID stores the inspection (201);
- the same instanceID with the very same XML is a later part of a split submission, or
  a retry: it adds the photos it brings (201);
- the same instanceID with different XML is refused (409);
- a ``deprecatedID`` is an edit: it replaces the inspection of the instance it names,
  while that inspection is a draft (the inspection service refuses a final one) and
  while that instance is the newest of its chain (409 otherwise); unknown: 404.

A photo the XML quotes whose part has not arrived yet is named in the finding by a
stand-in (:func:`pending_name`), so the inspection lists it in ``missing_photos``, as
it lists a photo the phone app has not uploaded yet; the post that brings the bytes
puts the photo's SHA-256 in its place.

Nothing of a refused post stays: the request's transaction is rolled back, and the
photo files it installed are removed again (:class:`PhotoParts`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import IO

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from inspect_app import formats
from inspect_app.audit import services as audit
from inspect_app.auth.models import User
from inspect_app.campaigns.services import checklist_ref
from inspect_app.db_types import utcnow
from inspect_app.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Invalid,
    NotFound,
    PayloadTooLarge,
    flatten_messages,
)
from inspect_app.extensions import db
from inspect_app.field_labels import describe
from inspect_app.findings.models import Finding, FindingPhoto, RectificationEvent
from inspect_app.inspections import services as inspections
from inspect_app.inspections.models import Inspection
from inspect_app.inspections.schemas import InspectionInSchema
from inspect_app.openrosa import form_names as names
from inspect_app.openrosa.submission_models import FormAttachment, FormSubmission
from inspect_app.photos import services as photos
from inspect_app.photos import storage
from inspect_app.sync.services import next_seq

XML_PART = "xml_submission_file"
INCOMPLETE_FIELD = "*isIncomplete*"

XML_CONFLICT = "该记录已提交过，但这次的内容与上次不同；补传照片时必须重发完全相同的表单"
OUT_OF_DATE = "您修改的是该记录的旧版本，它已被更新；请取得最新版本后重新修改"
NOT_YOURS = "该记录编号已被另一条记录使用"

_SCHEMA = InspectionInSchema()
_UUID = re.compile(formats.UUID)


class SubmissionError(DomainError):
    """A post refused before anything is stored: its status and the message for the app."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Instance:
    """What the XML says about itself, before it is read as an inspection."""

    xml: bytes
    sha256: str
    root: object
    form_id: str
    version: str
    instance_id: str
    deprecated_id: str | None


def pending_name(instance_id: str, filename: str) -> str:
    """The stand-in name of a photo the XML quotes before its bytes arrived.

    A SHA-256 too (the findings' photo names are), but of a text no photo's bytes are:
    no upload can ever be named so, and the real name replaces it when the photo comes.
    """
    return hashlib.sha256(f"openrosa pending photo\n{instance_id}\n{filename}".encode()).hexdigest()


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(element, name: str):
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _children(element, name: str) -> list:
    return [child for child in element if _local(child.tag) == name]


def _text(element) -> str:
    return "" if element is None else "".join(element.itertext()).strip()


def _instance_key(value: str) -> str:
    """An instanceID as stored: without "uuid:", in small letters."""
    value = value.strip()
    if value.lower().startswith("uuid:"):
        value = value[5:]
    return value.lower()


def parse_instance(xml: bytes) -> Instance:
    """The form, version and instance the XML names; SubmissionError (400) if it cannot."""
    try:
        root = ElementTree.fromstring(xml)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        raise SubmissionError(400, "提交的表单数据不是有效的 XML") from None
    form_id = (root.get("id") or "").strip()
    if not form_id:
        raise SubmissionError(400, "提交的表单数据缺少表单编号（根元素的 id 属性）")
    meta = _child(root, "meta")
    instance_id = _instance_key(_text(_child(meta, "instanceID")) if meta is not None else "")
    if not instance_id:
        raise SubmissionError(400, "提交的表单数据缺少记录编号（meta/instanceID）")
    if not _UUID.fullmatch(instance_id):
        raise SubmissionError(400, "记录编号（instanceID）不是有效的 UUID")
    deprecated = _text(_child(meta, "deprecatedID"))
    deprecated_id = _instance_key(deprecated) if deprecated else None
    if deprecated_id is not None and not _UUID.fullmatch(deprecated_id):
        raise SubmissionError(400, "被修改的记录编号（deprecatedID）不是有效的 UUID")
    return Instance(
        xml=xml,
        sha256=hashlib.sha256(xml).hexdigest(),
        root=root,
        form_id=form_id,
        version=(root.get("version") or "").strip(),
        instance_id=instance_id,
        deprecated_id=deprecated_id,
    )


def quoted_files(instance: Instance) -> list[str]:
    """The file names the instance's findings quote as photos, in order, once each."""
    found: dict[str, None] = {}
    for finding in _children(instance.root, names.FINDINGS):
        for group in _children(finding, names.PHOTOS):
            for photo in _children(group, names.PHOTO):
                name = _text(photo)
                if name:
                    found[name] = None
    return list(found)


@dataclass
class Form:
    campaign: str
    version: int


def find_form(instance: Instance, cache_seconds: float = 0) -> Form:
    """The campaign checklist version the form is made from; SubmissionError (404) if none.

    The form's version is the checklist version, a dot and the generator's revision: a
    form fetched before the generator changed still fills the same checklist version.
    """
    parsed = names.parse_form_id(instance.form_id)
    campaign, checklist = (None, None)
    if parsed is not None:
        campaign, checklist = checklist_ref(parsed[0], parsed[1], cache_seconds)
    if checklist is None:
        raise SubmissionError(404, f"表单「{instance.form_id}」不存在")
    if not re.fullmatch(rf"{parsed[1]}(\.[0-9]{{1,9}})?", instance.version):
        raise SubmissionError(404, f"表单「{instance.form_id}」没有版本「{instance.version}」")
    return Form(parsed[0], parsed[1])


def inspection_body(instance: Instance, form: Form, item_codes: dict[str, str], photo_names):
    """The instance as the JSON body of ``PUT /inspections/{uuid}`` (before the schema).

    ``item_codes`` maps item fields (``i_RO_01``) to item codes; ``photo_names`` maps a
    quoted file name to the name the finding gives it. Values the form cannot have made
    go to the schema as they are, so that its message names what is wrong.
    """
    root = instance.root
    body: dict = {
        "campaign": form.campaign,
        "checklist_version": form.version,
        "site_id": _number(_text(_child(root, names.SITE))),
        "started_at": _text(_child(root, names.STARTED_AT)) or None,
        "answers": [],
        "findings": [],
        "final": _text(_child(root, names.FINAL)) == names.YES,
    }
    if body["started_at"] is None:
        del body["started_at"]
    finished = _text(_child(root, names.FINISHED_AT))
    if finished:
        body["finished_at"] = finished
    location = _location(_text(_child(root, names.LOCATION)))
    if location is not None:
        body["location"] = location
    items = _child(root, names.ITEMS)
    for element in items if items is not None else ():
        result = _text(element)
        if result:
            field_name = _local(element.tag)
            code = item_codes.get(field_name, field_name.removeprefix("i_"))
            body["answers"].append({"item_code": code, "result": result})
    for element in _children(root, names.FINDINGS):
        finding = _finding(element, item_codes, photo_names)
        if finding is not None:
            body["findings"].append(finding)
    return body


def _finding(element, item_codes: dict[str, str], photo_names) -> dict | None:
    values = {_local(child.tag): _text(child) for child in element}
    files = [
        _text(photo)
        for group in _children(element, names.PHOTOS)
        for photo in _children(group, names.PHOTO)
        if _text(photo)
    ]
    if not any(values.get(key) for key in (names.FINDING_ITEM, names.DESCRIPTION)) and not files:
        return None  # an empty repeat: Enketo may send one
    item = values.get(names.FINDING_ITEM, "")
    finding: dict = {
        "id": _instance_key(values.get(names.FINDING_ID, "")),
        "item_code": item_codes.get(item, item),
        "description": values.get(names.DESCRIPTION, ""),
        "photos": [photo_names(name) for name in files],
    }
    for key, name in (
        ("severity", names.SEVERITY),
        ("requirement", names.REQUIREMENT),
        ("deadline", names.DEADLINE),
        ("major_hazard", names.MAJOR_HAZARD),
        ("fixed_on_spot", names.FIXED_ON_SPOT),
    ):
        if values.get(name):
            finding[key] = values[name]
    return finding


def _number(text: str):
    return int(text) if re.fullmatch(r"[0-9]{1,10}", text) else (text or None)


def _location(text: str) -> dict | None:
    """A geopoint, ``lat lon alt accuracy``, as the body's location."""
    if not text:
        return None
    parts = text.split()
    try:
        return {"lat": float(parts[0]), "lon": float(parts[1])}
    except (IndexError, ValueError):
        return {"lat": text}


def validated(body: dict) -> dict:
    """The body through the inspection schema; Invalid (422) with the schema's message."""
    try:
        return _SCHEMA.load(body)
    except ValidationError as exc:
        problems = flatten_messages(exc.messages)
        raise Invalid(describe("检查记录有误", problems), fields=problems) from None


@dataclass
class PhotoPart:
    filename: str
    stream: IO[bytes]


@dataclass
class PhotoParts:
    """The photos of one post, stored as ``PUT /photos/{sha256}`` stores them.

    ``discard`` removes what this post installed, for a post that is refused after."""

    store: storage.MediaStore
    max_bytes: int
    by_name: dict[str, str] = field(default_factory=dict)  # file name -> SHA-256
    installed: list[str] = field(default_factory=list)

    def receive(self, user: User, part: PhotoPart) -> None:
        digest = hashlib.sha256()
        size = 0
        part.stream.seek(0)
        while chunk := part.stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            if size > self.max_bytes:
                raise PayloadTooLarge(
                    f"照片 {part.filename} 超过 {self.max_bytes // 2**20} MB 的上限"
                )
        sha256 = digest.hexdigest()
        part.stream.seek(0)
        try:
            received = self.store.receive(
                sha256, part.stream, offset=0, total=size, max_bytes=self.max_bytes
            )
        except storage.TooLarge as exc:
            raise PayloadTooLarge(str(exc)) from None
        except (storage.HashMismatch, storage.Incomplete, ValueError) as exc:
            raise BadRequest(f"照片 {part.filename} 接收不完整：{exc}") from None
        except storage.UploadBusy as exc:
            raise Conflict(str(exc)) from None
        if received.created:
            self.installed.append(sha256)
        try:
            photos.record_photo(self.store, received, user, whole=True)
        except DomainError as exc:
            raise type(exc)(f"照片 {part.filename}：{exc.message}") from None
        self.by_name[part.filename] = sha256

    def discard(self) -> None:
        for sha256 in self.installed:
            self.store.remove(sha256)
        self.installed.clear()


@dataclass
class Outcome:
    status: int
    message: str
    inspection_uuid: str | None = None


def receive(
    user: User,
    instance: Instance,
    parts: list[PhotoPart],
    *,
    incomplete: bool,
    source: str,
    user_agent: str,
    cache_seconds: float = 0,
) -> Outcome:
    """Store one post of a submission; DomainError if it is refused (nothing stays)."""
    form = find_form(instance, cache_seconds)
    quoted = set(quoted_files(instance))
    # A part the XML does not quote is no photo of this record (ODK Central ignores it too).
    wanted = [part for part in parts if part.filename in quoted]
    store = photos.media_store()
    received = PhotoParts(store, current_app.config["MAX_PHOTO_BYTES"])
    try:
        for part in wanted:
            received.receive(user, part)
        return _store(user, instance, form, received.by_name, incomplete, source, user_agent)
    except BaseException:
        received.discard()
        raise


def _row(instance_id: str) -> FormSubmission | None:
    return db.session.scalar(
        select(FormSubmission).where(FormSubmission.instance_id == instance_id)
    )


def _attachments(submission_id: int) -> dict[str, FormAttachment]:
    rows = db.session.scalars(
        select(FormAttachment).where(FormAttachment.submission_id == submission_id)
    )
    return {row.filename: row for row in rows}


def _store(
    user: User,
    instance: Instance,
    form: Form,
    arrived: dict[str, str],
    incomplete: bool,
    source: str,
    user_agent: str,
) -> Outcome:
    extant = _row(instance.instance_id)
    if extant is not None:
        # A later part of a split submission, or a retry: the very same XML, more photos.
        if extant.user_id != user.id:
            raise Conflict(NOT_YOURS)
        if extant.xml_sha256 != instance.sha256:
            raise Conflict(XML_CONFLICT)
        if not extant.current:
            raise Conflict(OUT_OF_DATE)
        _fill_in(user, extant, arrived)
        return _outcome(extant.inspection_id, incomplete)

    inherited: dict[str, FormAttachment] = {}
    if instance.deprecated_id is not None:
        deprecated = _row(instance.deprecated_id)
        if deprecated is None or deprecated.user_id != user.id:
            raise NotFound("要修改的记录不存在")
        if not deprecated.current:
            raise Conflict(OUT_OF_DATE)
        inspection_uuid = db.session.scalar(
            select(Inspection.uuid).where(Inspection.id == deprecated.inspection_id)
        )
        inherited = _attachments(deprecated.id)
    else:
        deprecated = None
        inspection_uuid = instance.instance_id

    # Each quoted file: its SHA-256 if it came (now, or with the instance edited), else
    # the stand-in the edited instance gave it, else a new one.
    pending: dict[str, str] = {}
    named: dict[str, str] = {}
    for filename in quoted_files(instance):
        old = inherited.get(filename)
        pending[filename] = (
            old.pending_sha256 if old else pending_name(instance.instance_id, filename)
        )
        named[filename] = arrived.get(filename) or (old.sha256 if old and old.sha256 else None)
    _, checklist = checklist_ref(form.campaign, form.version)
    item_codes = {names.item_field(code): code for code in checklist.items}
    body = inspection_body(
        instance, form, item_codes, lambda filename: named[filename] or pending[filename]
    )
    data = validated(body)
    inspections.put_inspection(user, inspection_uuid, data, source=source)
    inspection_id = db.session.scalar(
        select(Inspection.id).where(Inspection.uuid == inspection_uuid)
    )
    if deprecated is not None:
        deprecated.current = False
    row = FormSubmission(
        instance_id=instance.instance_id,
        deprecated_id=instance.deprecated_id,
        inspection_id=inspection_id,
        user_id=user.id,
        form_id=instance.form_id,
        form_version=instance.version[:32],
        source=source,
        user_agent=user_agent[:255],
        xml=instance.xml,
        xml_sha256=instance.sha256,
        current=True,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        # The same instance, stored a moment ago by a concurrent post.
        raise Conflict("该记录正在由另一次提交写入，请稍后重试") from None
    now = utcnow()
    for filename in pending:
        sha = named[filename]
        db.session.add(
            FormAttachment(
                submission_id=row.id,
                filename=filename,
                pending_sha256=pending[filename],
                sha256=sha,
                received_at=now if sha else None,
            )
        )
    db.session.flush()
    audit.record(
        user.id,
        "inspection.submission",
        "inspection",
        inspection_uuid,
        {
            "instance": instance.instance_id,
            "edits": instance.deprecated_id,
            "source": source,
            "photos": len(arrived),
        },
    )
    return _outcome(inspection_id, incomplete)


def _fill_in(user: User, submission: FormSubmission, arrived: dict[str, str]) -> None:
    """The photos a later post brought take the place of their stand-ins."""
    now = utcnow()
    swaps: dict[str, str] = {}
    for filename, attachment in _attachments(submission.id).items():
        sha = arrived.get(filename)
        if sha is not None and attachment.sha256 is None:
            attachment.sha256 = sha
            attachment.received_at = now
            swaps[attachment.pending_sha256] = sha
    if not swaps:
        return
    db.session.flush()
    finding_ids = list(
        db.session.scalars(
            select(Finding.id).where(Finding.inspection_id == submission.inspection_id)
        )
    )
    touched: set[int] = set()
    for link in db.session.scalars(
        select(FindingPhoto).where(
            FindingPhoto.finding_id.in_(finding_ids), FindingPhoto.sha256.in_(list(swaps))
        )
    ):
        touched.add(link.finding_id)
        real = swaps[link.sha256]
        twin = db.session.scalar(
            select(FindingPhoto.id).where(
                FindingPhoto.finding_id == link.finding_id, FindingPhoto.sha256 == real
            )
        )
        if twin is None:
            link.sha256 = real
        else:
            db.session.delete(link)  # two quoted files with the same bytes: one photo
    for event in db.session.scalars(
        select(RectificationEvent).where(RectificationEvent.finding_id.in_(finding_ids))
    ):
        if event.photos and swaps.keys() & set(event.photos):
            renamed = list(dict.fromkeys(swaps.get(sha, sha) for sha in event.photos))
            event.photos = renamed
            touched.add(event.finding_id)
    db.session.flush()
    if touched:
        # The feed carries the findings again, with their photos' real names.
        first = next_seq(len(touched))
        for position, finding_id in enumerate(sorted(touched)):
            db.session.execute(
                update(Finding)
                .where(Finding.id == finding_id)
                .values(sync_seq=first + position, updated_at=now, version=Finding.version + 1)
            )
    uuid = db.session.scalar(
        select(Inspection.uuid).where(Inspection.id == submission.inspection_id)
    )
    audit.record(
        user.id,
        "inspection.submission_photos",
        "inspection",
        uuid,
        {"instance": submission.instance_id, "photos": len(swaps)},
    )


def _outcome(inspection_id: int, incomplete: bool) -> Outcome:
    inspection = db.session.get(Inspection, inspection_id)
    result = inspections.inspection_result(inspection)
    missing = len(result["missing_photos"])
    if incomplete:
        message = "已收到本批照片，其余照片随后提交"
    elif result["status"] == "draft":
        message = "已保存为草稿"
        if missing:
            message += f"，还有 {missing} 张照片未收到"
    elif missing:
        message = f"检查记录已提交，还有 {missing} 张照片未收到，请重新发送"
    else:
        message = "检查记录已提交"
    return Outcome(201, message, inspection.uuid)
