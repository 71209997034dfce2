"""Enketo as a real client (issue 18): enketo-core, the form engine Enketo runs in the
browser, fills a checklist's form in Debian's Chromium and submits it to a real server.

The test does what an Enketo web client does: it fetches formList, the form and its
manifest's sites.csv under an app key, turns the form into Enketo's HTML form and model
with enketo-transformer (node), and loads them with enketo-core (bundled by `make test`,
tests/xform_engine/enketo.js) in a page on the server's own origin, with sites.csv as
the form's external instance. Playwright fills the form as an inspector would, on a
phone; enketo-core validates it and gives the record, and the page posts the record and
its photos to the submission URL and shows the server's answer.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import urllib.request
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from inspect_app.auth.models import User
from inspect_app.campaigns.models import ChecklistItem
from inspect_app.config import TestConfig
from inspect_app.extensions import db
from inspect_app.findings.models import Finding, FindingPhoto
from inspect_app.inspections.models import Answer, Inspection
from inspect_app.openrosa import form_names, keys
from inspect_app.openrosa.submission_models import FormAttachment, FormSubmission
from inspect_app.photos.models import Photo
from tests.conftest import PHOTOS
from tests.support.browser import shot
from tests.support.server import Server

ENGINE = Path(__file__).parent / "xform_engine"
BUNDLE = ENGINE / "node_modules" / ".bundle" / "enketo-core.js"
STYLE = ENGINE / "enketo.css"
OR = {"X-OpenRosa-Version": "1.0"}
LIST_NS = {"x": "http://openrosa.org/xforms/xformsList"}
MANIFEST_NS = {"m": "http://openrosa.org/xforms/xformsManifest"}
XF = "{http://www.w3.org/2002/xforms}"
FORM_ID = form_names.form_id("refined-oil-2025", 1)
# Where the test page lives: a path of the server's own origin that the server does not
# serve (Playwright answers it), so the page's fetch to the OpenRosa URLs is same-origin.
PAGE_PATH = "/enketo-test/"
# Enketo in Chrome on an inspector's Android phone: enketo-core then uses its mobile
# widgets (no map for the GPS question), and the server counts the record as Enketo's.
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
GOLMUD = {"latitude": 36.4167, "longitude": 94.9033, "accuracy": 12}
STATION = "昆仑路加油站 · 昆仑路 12 号"


def require_engine() -> None:
    """enketo-transformer and the enketo-core bundle, both made by `make test`."""
    for needed in (ENGINE / "node_modules" / "enketo-transformer", BUNDLE):
        if not needed.exists():
            pytest.fail(f"{needed} is missing: run `make test` (npm ci and the esbuild bundle)")


def get(url: str) -> bytes:
    with urllib.request.urlopen(urllib.request.Request(url, headers=OR), timeout=30) as answer:
        return answer.read()


def download(base: str, token: str) -> dict:
    """What Enketo fetches for a form: formList?formID=, the form, its manifest's media."""
    listed = ET.fromstring(get(f"{base}/openrosa/key/{token}/formList?formID={FORM_ID}"))
    [entry] = listed.findall("x:xform", LIST_NS)
    xform = get(entry.findtext("x:downloadUrl", namespaces=LIST_NS))
    assert entry.findtext("x:hash", namespaces=LIST_NS) == f"md5:{hashlib.md5(xform).hexdigest()}"
    manifest = ET.fromstring(get(entry.findtext("x:manifestUrl", namespaces=LIST_NS)))
    media = {
        m.findtext("m:filename", namespaces=MANIFEST_NS): get(
            m.findtext("m:downloadUrl", namespaces=MANIFEST_NS)
        )
        for m in manifest.findall("m:mediaFile", MANIFEST_NS)
    }
    return {"xform": xform, "media": media}


_transformed: dict[str, dict] = {}


def transform(xform: bytes, tmp_path: Path) -> dict:
    """enketo-transformer's HTML form and model of an XForm (made once per form's bytes,
    as Enketo keeps a transformed form until its hash changes)."""
    digest = hashlib.sha256(xform).hexdigest()
    if digest in _transformed:
        return _transformed[digest]
    path = tmp_path / f"{FORM_ID}.xml"
    path.write_bytes(xform)
    run = subprocess.run(
        ["node", str(ENGINE / "transform.cjs"), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ENGINE,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)["results"][str(path)]
    assert "error" not in result, result.get("error")
    _transformed[digest] = result
    return result


def csv_instances(model: str) -> dict[str, str]:
    """The model's external instances fed by a CSV media file: file name -> instance id."""
    found = {}
    for instance in ET.fromstring(model).iter():
        src = instance.get("src") or ""
        if instance.tag.removeprefix(XF) == "instance" and src.startswith("jr://file-csv/"):
            found[src.removeprefix("jr://file-csv/")] = instance.get("id")
    return found


def small_jpeg(name: str, side: int = 480) -> bytes:
    """A real photo from shared/photos made small, as a phone's camera would hand it over."""
    with Image.open(PHOTOS / name) as image:
        image = image.convert("RGB")
        image.thumbnail((side, side))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80)
        return out.getvalue()


class Enketo:
    """A phone's browser on the test page: enketo-core with the server's form."""

    def __init__(self, chromium, base: str, token: str, tmp_path: Path):
        fetched = download(base, token)
        made = transform(fetched["xform"], tmp_path)
        self.model = made["model"]
        self.external = [
            {"id": instance_id, "csv": fetched["media"][name].decode("utf-8")}
            for name, instance_id in csv_instances(self.model).items()
        ]
        assert [e["id"] for e in self.external] == [form_names.SITES_FILE.removesuffix(".csv")]
        self.submission_url = f"{base}/openrosa/key/{token}/submission"
        page_html = (
            '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<title>Enketo</title><link rel="stylesheet" href="enketo.css">'
            '<script src="enketo-core.js"></script></head><body>'
            f'<div class="main">{made["form"]}</div>'
            '<p id="feedback" role="status"></p></body></html>'
        )
        self.files = {
            "": (page_html.encode(), "text/html; charset=utf-8"),
            "enketo-core.js": (BUNDLE.read_bytes(), "text/javascript; charset=utf-8"),
            "enketo.css": (STYLE.read_bytes(), "text/css; charset=utf-8"),
        }
        self.base = base
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context = chromium.new_context(
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            user_agent=ANDROID_CHROME,
            geolocation=GOLMUD,
            permissions=["geolocation"],
        )
        self.context.set_default_timeout(15_000)
        self.context.route("**/*", self._answer)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _answer(self, route) -> None:
        """The page and the bundle from here, the server's URLs from the server; nothing
        from anywhere else (the GPS widget would ask for map tiles)."""
        url = route.request.url
        if url.startswith(self.base + PAGE_PATH):
            body, kind = self.files[url.removeprefix(self.base + PAGE_PATH).split("?")[0]]
            route.fulfill(status=200, body=body, content_type=kind)
        elif url.startswith(self.base + "/"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def close(self) -> None:
        self.context.close()

    def open(self, record: str | None = None) -> None:
        """The page with a new record, or with a record sent before to edit it (Enketo's
        edit mode: enketo-core gives it a new instanceID and the old one as deprecatedID)."""
        self.page.goto(self.base + PAGE_PATH)
        load_errors = self.page.evaluate(
            """({model, external, record}) => {
                const data = {
                    modelStr: model,
                    external: external.map((e) => ({id: e.id, xml: enketo.csvToXml(e.csv)})),
                };
                if (record) Object.assign(data, {instanceStr: record, submitted: true});
                window.form = new enketo.Form(document.querySelector('form.or'), data, {});
                return window.form.init();
            }""",
            {"model": self.model, "external": self.external, "record": record},
        )
        assert load_errors == [] and self.errors == []

    # -- what the inspector does ---------------------------------------------------------

    def choose_site(self, label: str) -> None:
        box = self.page.locator("input.widget.autocomplete")
        box.fill(label)
        box.dispatch_event("change")

    def locate(self) -> None:
        self.page.click("button[name=geodetect]")
        self.page.wait_for_function(
            "window.form.model.xml.querySelector('location').textContent !== ''"
        )

    def item(self, code: str):
        """The question of a checklist item."""
        field = form_names.item_field(code)
        return self.page.locator(f'fieldset.question:has(input[name="/data/items/{field}"])')

    def answer(self, code: str, result: str) -> None:
        field = form_names.item_field(code)
        self.page.check(f'input[name="/data/items/{field}"][value="{result}"]')

    def finding(self, n: int):
        return self.page.locator('.or-repeat[name="/data/findings"]').nth(n)

    def add_finding(self) -> None:
        self.page.click('.or-repeat-info[data-name="/data/findings"] > .add-repeat-btn')

    def fill_finding(self, n: int, code: str, description: str, photo: tuple[str, bytes], **more):
        finding = self.finding(n)
        finding.locator(
            f'input[data-name="/data/findings/item"][value="{form_names.item_field(code)}"]'
        ).check()
        finding.locator('textarea[name="/data/findings/description"]').fill(description)
        if "requirement" in more:
            finding.locator('textarea[name="/data/findings/requirement"]').fill(more["requirement"])
        if "deadline" in more:
            finding.locator('input[name="/data/findings/deadline"]').fill(more["deadline"])
        name, data = photo
        finding.locator('input[type="file"]').set_input_files(
            {"name": name, "mimeType": "image/jpeg", "buffer": data}
        )
        # The file picker shows the photo once it has put its name in the record.
        finding.locator(".file-preview img").wait_for()

    def offered_items(self, n: int) -> list[str]:
        """The items a finding's 问题所属检查项 offers (its choices, less the template)."""
        choices = self.finding(n).locator(
            '.option-wrapper > label:not(.itemset-template) input[data-name$="/item"]'
        )
        return choices.evaluate_all("inputs => inputs.map((i) => i.value)")

    def description(self, n: int) -> str:
        field = self.finding(n).locator('textarea[name="/data/findings/description"]')
        return field.input_value()

    def severity(self, n: int) -> str:
        return (
            self.finding(n)
            .locator('input[data-name="/data/findings/severity"]:checked')
            .get_attribute("value")
        )

    def finish(self, done: bool = True) -> None:
        value = form_names.YES if done else form_names.NO
        self.page.check(f'input[name="/data/{form_names.FINAL}"][value="{value}"]')

    def record(self) -> dict | None:
        """enketo-core's validation, then the record (XML and files) Enketo would keep."""
        return self.page.evaluate(
            """async () => {
                const record = await enketo.record(window.form);
                if (!record) return null;
                window.record = record;
                return {xml: record.xml, files: record.files.map((f) => f.name)};
            }"""
        )

    def send(self) -> dict:
        """Post the kept record (again, for a retry); returns {status, message} and the
        page shows the message."""
        answer = self.page.evaluate("(url) => enketo.post(url, window.record)", self.submission_url)
        assert self.page.locator("#feedback").inner_text() == answer["message"]
        return answer


@pytest.fixture
def field_work(app, database_url, media_dir, tmp_path, make_user, make_site, chromium):
    """An inspector of 东城区 with an app key, a fuel station and an oil depot of
    东城区 and a fuel station of 西城区, the server (gunicorn) on that database, and
    Enketo on a phone."""
    require_engine()
    user_id = make_user("enketo1", "inspector", ["东城区"])
    with app.app_context():
        token = keys.issue(db.session.get(User, user_id), None)
        db.session.commit()
    sites = {
        "station": make_site("昆仑路加油站", "东城区", "加油站", address="昆仑路 12 号"),
        "depot": make_site("东城油库", "东城区", "油库"),
        "west": make_site("西城加油站", "西城区", "加油站"),
    }
    server = Server(database_url, media_dir, tmp_path / "instance")
    server.env["INSPECT_SECRET_KEY"] = TestConfig.SECRET_KEY
    with server:
        enketo = Enketo(chromium, server.base, token, tmp_path)
        try:
            yield {"enketo": enketo, "sites": sites, "media": media_dir}
        finally:
            enketo.close()
    assert enketo.errors == []


def rows(app, query):
    with app.app_context():
        try:
            return db.session.execute(query).all()
        finally:
            db.session.remove()


def count(app, model, *where) -> int:
    return rows(app, select(func.count()).select_from(model).where(*where))[0][0]


def test_enketo_fills_a_checklist_form_and_submits_it_with_photos(app, field_work, checklist):
    enketo = field_work["enketo"]
    page = enketo.page
    enketo.open()
    # Only the inspector's districts are offered, from sites.csv.
    offered = page.locator("datalist#datasite option:not(.itemset-template)")
    assert sorted(offered.evaluate_all("os => os.map((o) => o.value)")) == sorted(
        [STATION, "东城油库"]
    )
    enketo.choose_site(STATION)
    enketo.locate()

    # At a fuel station the form asks the station's items; the others are not shown.
    for code in checklist["codes"]:
        assert enketo.item(code).is_visible(), code
    assert checklist["elsewhere"]
    for code in checklist["elsewhere"]:
        assert enketo.item(code).is_hidden(), code
    # No finding is asked before an item fails.
    assert enketo.finding(0).is_hidden()

    key = next(c for c in checklist["plain"] if checklist["severity"][c] == "key")
    general = next(
        (c for c in checklist["plain"] if checklist["severity"][c] == "general"),
        next(c for c in checklist["plain"] if c != key),
    )
    failed = [key, general]
    for code in checklist["codes"]:
        enketo.answer(code, "fail" if code in failed else "pass")
    assert enketo.finding(0).is_visible()
    # A finding's item is chosen among the failed items only.
    assert sorted(enketo.offered_items(0)) == sorted(form_names.item_field(c) for c in failed)

    deadline = (date.today() + timedelta(days=14)).isoformat()
    photos = [("油罐区.jpg", small_jpeg("jolla.jpg")), ("卸油口.jpg", small_jpeg("DSCN0010.jpg"))]
    enketo.fill_finding(
        0,
        key,
        "油罐区未设置防静电接地装置",
        photos[0],
        requirement="立即停止卸油，安装防静电接地装置",
        deadline=deadline,
    )
    enketo.add_finding()
    enketo.fill_finding(1, general, "卸油口未加锁", photos[1])
    # Choosing the item preset each finding's severity to the item's default.
    assert [enketo.severity(0), enketo.severity(1)] == [
        checklist["severity"][key],
        checklist["severity"][general],
    ]
    enketo.finish()
    record = enketo.record()
    assert record is not None, "enketo-core found the filled form invalid"

    sent = enketo.send()
    assert sent == {"status": 201, "message": "检查记录已提交"}
    shot(page, "enketo-phone-filled-form")
    # Nothing left this machine: the page asked for nothing beyond the server.
    assert enketo.outside == []

    root = ET.fromstring(record["xml"])
    instance_id = root.findtext("meta/instanceID").removeprefix("uuid:")
    [(inspection,)] = rows(app, select(Inspection))
    assert inspection.uuid == instance_id
    assert inspection.source == "enketo" and inspection.final
    assert inspection.site_id == field_work["sites"]["station"]
    assert (inspection.lat, inspection.lon) == (GOLMUD["latitude"], GOLMUD["longitude"])
    answers = dict(
        rows(
            app,
            select(ChecklistItem.code, Answer.result)
            .join(ChecklistItem, ChecklistItem.id == Answer.item_id)
            .where(Answer.inspection_id == inspection.id),
        )
    )
    assert answers == {c: "fail" if c in failed else "pass" for c in checklist["codes"]}
    findings = rows(
        app,
        select(
            ChecklistItem.code,
            Finding.description,
            Finding.severity,
            Finding.requirement,
            Finding.deadline,
            FindingPhoto.sha256,
        )
        .join(ChecklistItem, ChecklistItem.id == Finding.item_id)
        .join(FindingPhoto, FindingPhoto.finding_id == Finding.id)
        .order_by(Finding.id),
    )
    digests = [hashlib.sha256(data).hexdigest() for _, data in photos]
    assert [(f[0], f[1], f[2], f[5]) for f in findings] == [
        (key, "油罐区未设置防静电接地装置", checklist["severity"][key], digests[0]),
        (general, "卸油口未加锁", checklist["severity"][general], digests[1]),
    ]
    assert findings[0][3] == "立即停止卸油，安装防静电接地装置"
    assert str(findings[0][4]) == deadline
    # The photos are stored as they left the phone, under the names the record gives them.
    quoted = [p.text for p in root.iter("photo")]
    assert sorted(quoted) == sorted(record["files"]) and len(quoted) == 2
    for digest, (_, data) in zip(digests, photos, strict=True):
        [stored] = [p for p in (field_work["media"] / "originals").rglob(digest) if p.is_file()]
        assert stored.read_bytes() == data
    assert count(app, Photo) == 2

    # Enketo sends a record again when it did not see the answer: the same record is
    # 201 again, and nothing is stored twice.
    assert enketo.send() == {"status": 201, "message": "检查记录已提交"}
    assert count(app, Inspection) == 1
    assert count(app, Finding) == 2
    assert count(app, FindingPhoto) == 2
    assert count(app, Photo) == 2
    assert count(app, FormSubmission) == 1
    assert count(app, FormAttachment, FormAttachment.sha256.is_(None)) == 0


def test_a_draft_is_edited_into_a_final_record_and_then_no_edit_is_taken(
    app, field_work, checklist
):
    enketo = field_work["enketo"]
    enketo.open()
    enketo.choose_site(STATION)
    failed = checklist["plain"][0]
    for code in checklist["codes"]:
        enketo.answer(code, "fail" if code == failed else "pass")
    photo = ("现场.jpg", small_jpeg("landscape_1.jpg"))
    enketo.fill_finding(0, failed, "加油机未张贴安全警示标志", photo)
    enketo.finish(done=False)
    draft = enketo.record()
    assert draft is not None
    assert enketo.send() == {"status": 201, "message": "已保存为草稿"}
    [(inspection,)] = rows(app, select(Inspection))
    assert not inspection.final and inspection.source == "enketo"

    # The inspector opens the draft again (Enketo's edit mode) and finishes it; the photo
    # sent with the draft is not sent again.
    enketo.open(draft["xml"])
    assert enketo.description(0) == "加油机未张贴安全警示标志"
    enketo.finish()
    final = enketo.record()
    assert final is not None and final["files"] == []
    edited = ET.fromstring(final["xml"])
    old_id = ET.fromstring(draft["xml"]).findtext("meta/instanceID")
    assert edited.findtext("meta/deprecatedID") == old_id
    assert enketo.send() == {"status": 201, "message": "检查记录已提交"}
    [(after,)] = rows(app, select(Inspection))
    assert after.uuid == inspection.uuid and after.final
    assert count(app, Finding) == 1 and count(app, FindingPhoto) == 1
    assert count(app, FormAttachment, FormAttachment.sha256.is_(None)) == 0

    # A final inspection cannot be edited: the server refuses, and says why.
    enketo.open(final["xml"])
    enketo.finish(done=False)
    assert enketo.record() is not None
    refused = enketo.send()
    assert refused["status"] == 409, refused
    assert refused["message"] == "该检查记录已定稿，不能用不同的内容覆盖"
    shot(enketo.page, "enketo-phone-edit-refused", full_page=False)
    [(still,)] = rows(app, select(Inspection))
    assert still.final and count(app, FormSubmission) == 2
