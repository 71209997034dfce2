"""What ODK Collect does, in Python: its blank forms, filling them, sending them.

``Collect`` is the app: ``update_forms`` does what 获取空白表单 and Collect's automatic
form update do (the form list; each form whose hash is new, its bytes checked against
that md5; each form's manifest and every media file whose hash is new, checked the
same way), and hands the forms to ``tests.support.xforms``, which fills one the way a
person fills it in Collect: by the labels it shows, with the form's own rules.
``submit`` sends a finalized instance the way Collect's uploader does: it asks
``HEAD …/submission`` for ``X-OpenRosa-Accept-Content-Length``, puts the XML and as
many photos as fit under that into one multipart post, and sends the rest in further
posts of the same XML, every one but the last marked ``*isIncomplete*=yes``. Anything
but 201 fails the submission; a submission that failed (a connection cut, an answer
lost) is sent again from its first post, as Collect's auto-send does. Every request
that fails on the way (a cut connection, a cut or corrupted answer) is made again.

``instance_xml`` writes such an instance by hand from ``form_names`` (for the tests of
the server's reading of submissions, which need XML no form would make).
"""

import hashlib
import http.client
import io
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw

from inspect_app.openrosa import form_names as names
from inspect_app.openrosa import xform
from tests.support.xforms import XForm

COLLECT_AGENT = "org.odk.collect.android/v2024.3.1 okhttp/4.12.0 Dalvik/2.1.0 (Linux; Android 13)"
ENKETO_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
# Collect's own limit when the server announces none.
COLLECT_DEFAULT_ACCEPT = 10_000_000
NETWORK_ERRORS = (ConnectionError, http.client.HTTPException, OSError, TimeoutError)
LIST = "{http://openrosa.org/xforms/xformsList}"
MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"


def form_version(checklist_version: int) -> str:
    """The form's version attribute: the checklist version and the generator's revision."""
    return xform.form_version(checklist_version)


def instance_xml(
    campaign: str,
    version: int,
    site_id,
    *,
    instance_id: str | None = None,
    deprecated_id: str | None = None,
    answers: dict[str, str] | None = None,
    findings: list[dict] | None = None,
    final: bool = True,
    started_at: str = "2025-05-12T09:30:00.000+08:00",
    finished_at: str = "2025-05-12T10:05:00.000+08:00",
    location: str = "36.4167 94.9033 2800 5",
    form_id: str | None = None,
    form_ver: str | None = None,
) -> bytes:
    """A filled form's instance, as Collect saves it (``findings``: dicts with ``item``,
    ``description``, ``photos`` (file names) and the optional fields)."""
    instance_id = instance_id or str(uuid.uuid4())
    form_id = form_id or names.form_id(campaign, version)
    form_ver = form_ver or form_version(version)
    out = [
        f'<{names.ROOT} xmlns:jr="http://openrosa.org/javarosa" '
        f'xmlns:orx="{names.OPENROSA_NS}" id="{escape(form_id)}" version="{escape(form_ver)}">',
        f"<{names.SITE}>{site_id}</{names.SITE}>",
        f"<{names.STARTED_AT}>{started_at}</{names.STARTED_AT}>",
        f"<{names.FINISHED_AT}>{finished_at}</{names.FINISHED_AT}>",
        f"<{names.LOCATION}>{location}</{names.LOCATION}>",
        f"<{names.ITEMS}>",
    ]
    for code, result in (answers or {}).items():
        field = names.item_field(code)
        out.append(f"<{field}>{result}</{field}>")
    out.append(f"</{names.ITEMS}>")
    for finding in findings or []:
        out.append(f"<{names.FINDINGS}>")
        out.append(f"<{names.FINDING_ID}>{finding.get('id') or uuid.uuid4()}</{names.FINDING_ID}>")
        out.append(
            f"<{names.FINDING_ITEM}>{names.item_field(finding['item'])}</{names.FINDING_ITEM}>"
        )
        out.append(f"<{names.DESCRIPTION}>{escape(finding['description'])}</{names.DESCRIPTION}>")
        for key, tag in (
            ("severity", names.SEVERITY),
            ("requirement", names.REQUIREMENT),
            ("deadline", names.DEADLINE),
        ):
            out.append(f"<{tag}>{escape(finding.get(key, ''))}</{tag}>")
        for key, tag in (
            ("major_hazard", names.MAJOR_HAZARD),
            ("fixed_on_spot", names.FIXED_ON_SPOT),
        ):
            out.append(f"<{tag}>{names.YES if finding.get(key) else names.NO}</{tag}>")
        for filename in finding.get("photos", []):
            out.append(
                f"<{names.PHOTOS}><{names.PHOTO}>{filename}</{names.PHOTO}></{names.PHOTOS}>"
            )
        out.append(f"</{names.FINDINGS}>")
    out.append(f"<{names.FINAL}>{names.YES if final else names.NO}</{names.FINAL}>")
    meta = f"<orx:instanceID>uuid:{instance_id}</orx:instanceID>"
    if deprecated_id:
        meta += f"<orx:deprecatedID>uuid:{deprecated_id}</orx:deprecatedID>"
    out.append(f"<orx:meta>{meta}</orx:meta>")
    out.append(f"</{names.ROOT}>")
    return "".join(out).encode()


def multipart(xml: bytes, files: list[tuple[str, bytes]], incomplete: bool = False, boundary=None):
    """(body, content type) of one post, as Collect builds it."""
    boundary = boundary or uuid.uuid4().hex
    chunks = []

    def part(name: str, filename: str | None, content_type: str, data: bytes):
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        chunks.append(
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            f"Content-Type: {content_type}\r\n\r\n".encode()
        )
        chunks.append(data)
        chunks.append(b"\r\n")

    part("xml_submission_file", "xml_submission_file", "text/xml", xml)
    for filename, data in files:
        part(filename, filename, "image/jpeg", data)
    if incomplete:
        part("*isIncomplete*", None, "text/plain; charset=utf-8", b"yes")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def batches(xml: bytes, files: list[tuple[str, bytes]], limit: int) -> list[list]:
    """Collect's split: the XML and photos up to ``limit`` bytes per post (a photo larger
    than the limit goes alone)."""
    out: list[list] = [[]]
    size = len(xml)
    for filename, data in files:
        if out[-1] and size + len(data) > limit:
            out.append([])
            size = len(xml)
        out[-1].append((filename, data))
        size += len(data)
    return out


def photo_set(count: int, source, side: int = 480) -> list[bytes]:
    """``count`` small, real JPEGs with distinct bytes: a real photo, stamped with a number."""
    base = Image.open(source).convert("RGB")
    base.thumbnail((side, side))
    out = []
    for n in range(count):
        image = base.copy()
        ImageDraw.Draw(image).text((8 + n % 40, 8 + n // 40 * 12), f"#{n}", fill=(255, 255, 0))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=75)
        out.append(buffer.getvalue())
    assert len({hashlib.sha256(p).hexdigest() for p in out}) == count
    return out


class SubmissionFailed(AssertionError):
    """The server answered a post with something other than 201."""

    def __init__(self, status: int, body: bytes):
        super().__init__(f"{status}: {body.decode(errors='replace')[:300]}")
        self.status, self.body = status, body


class Corrupted(http.client.HTTPException):
    """A download whose bytes are not the ones its hash names: fetched again."""


class Collect:
    """A Collect configured with the server address ``<server>/openrosa/key/<token>``."""

    def __init__(self, server_url: str, attempts: int = 10):
        parts = urlsplit(server_url)
        self.host, self.port, self.base = parts.hostname, parts.port, parts.path.rstrip("/")
        self.attempts = attempts
        self.forms: dict[str, XForm] = {}  # the blank forms on the phone, by formID
        self.hashes: dict[str, str] = {}  # formID or formID/filename → md5 of what is kept
        self.downloads: Counter = Counter()  # form / media: bytes fetched and checked
        self.posts = 0
        self.submissions = 0
        self.largest_split = 0  # posts of the most split submission
        self.network_failures = 0
        self.restarts = 0

    # The blank forms.

    def update_forms(self) -> dict[str, XForm]:
        """Fetch the form list and whatever of it is new; the forms now on the phone."""
        listing = ET.fromstring(self._get("/formList"))
        listed = {}
        for entry in listing.findall(f"{LIST}xform"):
            form_id = entry.findtext(f"{LIST}formID")
            digest = entry.findtext(f"{LIST}hash").removeprefix("md5:")
            if self.hashes.get(form_id) == digest:
                xml = self.forms[form_id].xml
            else:
                xml = self._download(entry.findtext(f"{LIST}downloadUrl"), digest, "form")
            media = self._media(form_id, entry.findtext(f"{LIST}manifestUrl"))
            listed[form_id] = XForm(xml, media)
            self.hashes[form_id] = digest
        # Collect's "exactly match server": a form the server no longer lists goes.
        self.forms = listed
        return self.forms

    def form(self, title: str) -> XForm:
        """The blank form whose title holds ``title``, as the person picks it."""
        found = [form for form in self.forms.values() if title in form.title]
        assert len(found) == 1, [form.title for form in self.forms.values()]
        return found[0]

    def _media(self, form_id: str, manifest_url: str | None) -> dict[str, bytes]:
        if not manifest_url:
            return {}
        kept = self.forms[form_id].media if form_id in self.forms else {}
        manifest = ET.fromstring(self._get(manifest_url))
        media = {}
        for entry in manifest.findall(f"{MANIFEST}mediaFile"):
            name = entry.findtext(f"{MANIFEST}filename")
            digest = entry.findtext(f"{MANIFEST}hash").removeprefix("md5:")
            key = f"{form_id}/{name}"
            if self.hashes.get(key) == digest and name in kept:
                media[name] = kept[name]
            else:
                media[name] = self._download(
                    entry.findtext(f"{MANIFEST}downloadUrl"), digest, "media"
                )
                self.hashes[key] = digest
        return media

    def _download(self, url: str, digest: str, kind: str) -> bytes:
        def fetch():
            data = self._get_once(url)
            if hashlib.md5(data).hexdigest() != digest:  # noqa: S324 - OpenRosa's hash
                raise Corrupted(url)
            return data

        data = self._again(fetch)
        self.downloads[kind] += 1
        return data

    def _get(self, url: str) -> bytes:
        return self._again(lambda: self._get_once(url))

    def _get_once(self, url: str) -> bytes:
        parts = urlsplit(url)
        if parts.netloc:  # an address the server gave: it must be the one Collect uses
            assert (parts.hostname, parts.port) == (self.host, self.port), url
            path = parts.path + (f"?{parts.query}" if parts.query else "")
        else:
            path = self.base + url
        status, _, data = self._once("GET", path, absolute=True)
        if status != 200:
            raise SubmissionFailed(status, data)
        return data

    def _again(self, attempt):
        """``attempt()`` until it gets through the link (Collect's retry of a download)."""
        for n in range(self.attempts):
            try:
                return attempt()
            except NETWORK_ERRORS:
                self.network_failures += 1
                time.sleep(0.02 * (n + 1))
        raise RuntimeError(f"no answer after {self.attempts} attempts")

    # Sending.

    def _once(
        self, method: str, path: str, body: bytes | None = None, headers=None, absolute=False
    ):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request(
                method,
                path if absolute else self.base + path,
                body=body,
                headers={
                    "Connection": "close",
                    "X-OpenRosa-Version": "1.0",
                    "User-Agent": COLLECT_AGENT,
                    **(headers or {}),
                },
            )
            response = connection.getresponse()
            data = response.read()
            headers = {k.lower(): v for k, v in response.getheaders()}
            expected = headers.get("content-length")
            if method != "HEAD" and (expected is None or int(expected) != len(data)):
                raise http.client.IncompleteRead(data)  # a cut-off answer is no answer
            return response.status, headers, data
        finally:
            connection.close()

    def accept_content_length(self) -> int:
        status, headers, _ = self._once("HEAD", "/submission")
        if status == 204 and "x-openrosa-accept-content-length" in headers:
            return int(headers["x-openrosa-accept-content-length"])
        return COLLECT_DEFAULT_ACCEPT

    def submit(self, xml: bytes, files: list[tuple[str, bytes]]) -> bytes:
        """Send the instance until every post of it is answered 201; the last answer."""
        self.submissions += 1
        for attempt in range(self.attempts):
            try:
                return self._submit_once(xml, files)
            except NETWORK_ERRORS:
                self.network_failures += 1
                self.restarts += 1
                time.sleep(0.02 * (attempt + 1))
        raise RuntimeError(f"not submitted after {self.attempts} attempts")

    def _submit_once(self, xml: bytes, files: list[tuple[str, bytes]]) -> bytes:
        limit = self.accept_content_length()
        groups = batches(xml, files, limit)
        self.largest_split = max(self.largest_split, len(groups))
        answer = b""
        for n, group in enumerate(groups):
            # The same post the same bytes each time (Collect's boundary is random; the
            # test's flaky link cuts each distinct request once, so a retry must be alike).
            boundary = hashlib.sha256(xml + bytes([n])).hexdigest()[:32]
            body, content_type = multipart(
                xml, group, incomplete=n < len(groups) - 1, boundary=boundary
            )
            self.posts += 1
            status, _, answer = self._once(
                "POST", "/submission", body, {"Content-Type": content_type}
            )
            if status != 201:
                raise SubmissionFailed(status, answer)
        return answer
