"""POST /openrosa/key/<token>/submission, held to what ODK Central's integration tests pin.

(getodk/central-backend test/integration/api/submissions.js, "api: /submission" POST and
"versioning": headers, the version header, authentication, multipart errors, unknown
forms and versions, the same XML again, different XML for the same instance, edits by
deprecatedID, a deleted or voided record.) Each case also checks what the inspector and
the office would notice here: the inspection, its findings and photos, the kept XML.
"""

import hashlib
import uuid
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select

from inspect_app.audit.models import AuditLog
from inspect_app.auth.models import User
from inspect_app.extensions import db
from inspect_app.findings.models import Finding
from inspect_app.inspections.models import Inspection
from inspect_app.openrosa import keys
from inspect_app.openrosa.submission_models import FormSubmission
from inspect_app.photos.models import Photo
from tests.conftest import PHOTOS
from tests.support.collect import COLLECT_AGENT, ENKETO_AGENT, instance_xml, multipart, photo_set

RESPONSE_NS = "{http://openrosa.org/http/response}"


@pytest.fixture
def inspector(app, make_user):
    user_id = make_user("collect1", "inspector", ["东城区"])
    return {"id": user_id, "key": issue_key(app, user_id)}


def issue_key(app, user_id: int) -> str:
    with app.app_context():
        key = keys.issue(db.session.get(User, user_id), None)
        db.session.commit()
        return key


@pytest.fixture
def site(make_site):
    return make_site(name="格尔木昆仑路加油站")


@pytest.fixture(scope="module")
def jpegs():
    return photo_set(6, PHOTOS / "jolla.jpg", side=320)


def post(client, key, xml=None, files=(), *, incomplete=False, agent=COLLECT_AGENT, **kw):
    headers = {"X-OpenRosa-Version": "1.0", "User-Agent": agent, **kw.pop("headers", {})}
    if "data" not in kw:
        kw["data"], kw["content_type"] = multipart(xml, list(files), incomplete)
    return client.post(f"/openrosa/key/{key}/submission", headers=headers, **kw)


def message(response) -> str:
    """The OpenRosaResponse's message: Chinese, shown by the app."""
    assert response.content_type == "text/xml; charset=utf-8"
    root = ET.fromstring(response.data)
    assert root.tag == f"{RESPONSE_NS}OpenRosaResponse"
    text = root.find(f"{RESPONSE_NS}message").text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text
    return text


def openrosa_headers_ok(response) -> None:
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert int(response.headers["X-OpenRosa-Accept-Content-Length"]) > 0
    assert response.headers["Date"].endswith("GMT")


def form(checklist, site, **kw):
    """An instance of the refined-oil form: one failed item with a photo, the rest passed."""
    plain = checklist["plain"]
    kw.setdefault("answers", {plain[0]: "fail", plain[1]: "pass", plain[2]: "na"})
    kw.setdefault(
        "findings",
        [
            {
                "item": plain[0],
                "description": "油罐区未设置防静电接地装置",
                "severity": "key",
                "requirement": "立即整改",
                "photos": ["1715480000123.jpg"],
            }
        ],
    )
    return instance_xml(checklist["campaign"], checklist["version"], site, **kw)


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def view(client, login, uuid_):
    response = client.get(f"/api/v1/inspections/{uuid_}", headers=login("office1"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def office(make_user):
    make_user("office1", "office", [])


# -- headers, version header, authentication -------------------------------------------


def test_a_submission_is_stored_and_answered_201_with_openrosa_headers(
    app, client, inspector, site, checklist, jpegs, office, login
):
    instance = str(uuid.uuid4())
    xml = form(checklist, site, instance_id=instance)
    response = post(client, inspector["key"], xml, [("1715480000123.jpg", jpegs[0])])
    assert response.status_code == 201
    openrosa_headers_ok(response)
    assert message(response) == "检查记录已提交"
    stored = view(client, login, instance)
    assert stored["status"] == "complete"
    assert stored["source"] == "collect"
    assert stored["site_id"] == site and stored["final"] is True
    assert stored["location"] == {"lat": 36.4167, "lon": 94.9033}
    assert sorted(a["result"] for a in stored["answers"]) == ["fail", "na", "pass"]
    [finding] = stored["findings"]
    assert finding["severity"] == "key" and finding["description"] == "油罐区未设置防静电接地装置"
    assert finding["photos"] == [hashlib.sha256(jpegs[0]).hexdigest()]
    # The XML is kept as received, with the inspection it made.
    with app.app_context():
        row = db.session.scalar(select(FormSubmission))
        assert row.xml == xml and row.instance_id == instance
        assert db.session.get(Inspection, row.inspection_id).uuid == instance
        actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"inspection.create", "photo.upload", "inspection.submission"} <= actions


def test_without_the_openrosa_version_header_is_400(client, inspector, site, checklist):
    response = post(
        client, inspector["key"], form(checklist, site), headers={"X-OpenRosa-Version": ""}
    )
    assert response.status_code == 400
    openrosa_headers_ok(response)
    assert "X-OpenRosa-Version" in message(response)


def test_a_malformed_key_is_401_an_unknown_one_403_and_a_disabled_user_stops_at_once(
    app, client, inspector, site, checklist
):
    response = post(client, "not!a!key", form(checklist, site))
    assert response.status_code == 401
    openrosa_headers_ok(response)
    message(response)
    response = post(client, "A" * 64, form(checklist, site))
    assert response.status_code == 403
    openrosa_headers_ok(response)
    message(response)
    with app.app_context():
        db.session.get(User, inspector["id"]).active = False
        db.session.commit()
    response = post(client, inspector["key"], form(checklist, site))
    assert response.status_code == 403
    assert count(app, Inspection) == 0


# -- multipart and XML errors: 400/404/413, XML body, nothing stored -------------------


def test_without_an_xml_part_is_400(app, client, inspector, site, checklist):
    response = post(client, inspector["key"], data=form(checklist, site), content_type="text/xml")
    assert response.status_code == 400
    assert "xml_submission_file" in message(response)
    body, content_type = multipart(b"", [])
    body = body.replace(b'name="xml_submission_file"', b'name="other"')
    response = post(client, inspector["key"], data=body, content_type=content_type)
    assert response.status_code == 400
    assert "xml_submission_file" in message(response)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        # "Multipart: Boundary not found"
        ("multipart/form-data", b""),
        # "Unexpected end of form"
        ("multipart/form-data; boundary=----geckoformboundary57597312afb", b""),
        # "Malformed part header"
        (
            "multipart/form-data; boundary=BOUNDARY",
            b"--BOUNDARY\r\n"
            b'Content-Disposition: form-data; name="xml_submission_file"; '
            b'filename="xml_submission_file"\r\n'
            b"Content-Type: text/xml\r\n\r\n"
            b"--BOUNDARY\r\n"
            b'Content-Disposition: form-data; name="__csrf"\r\n\r\n'
            b"content\r\n"
            b"--BOUNDARY\r\n"
            b'Content-Disposition: form-data; name="a.jpg"; filename="a.jpg"\r\n'
            b"Content-Type: image/jpeg\r\n\r\n"
            b"--BOUNDARY--\r\n\r\n",
        ),
        # A body cut off in the middle of a part.
        (
            "multipart/form-data; boundary=BOUNDARY",
            b"--BOUNDARY\r\n"
            b'Content-Disposition: form-data; name="xml_submission_file"; filename="x.xml"\r\n'
            b"Content-Type: text/xml\r\n\r\n<data id=",
        ),
    ],
)
def test_malformed_multipart_is_400(app, client, inspector, content_type, body):
    response = post(client, inspector["key"], data=body, content_type=content_type)
    assert response.status_code == 400
    openrosa_headers_ok(response)
    message(response)
    assert count(app, FormSubmission) == 0


@pytest.mark.parametrize(
    "xml",
    [
        b"<test",
        b"<data><meta><instanceID>uuid:1</instanceID></meta></data>",  # no form id
        b'<data id="refined-oil-2025-v1" version="1.1"><site>1</site></data>',  # no instanceID
        b'<data id="x" version="1"><meta><instanceID>uuid:not-a-uuid</instanceID></meta></data>',
        # An entity bomb is refused, not expanded.
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><data id="x">&b;</data>',
    ],
)
def test_xml_that_is_no_instance_is_400(app, client, inspector, xml):
    response = post(client, inspector["key"], xml)
    assert response.status_code == 400
    message(response)
    assert count(app, Inspection) == 0


def test_an_unknown_form_or_form_version_is_404(app, client, inspector, site, checklist):
    response = post(client, inspector["key"], form(checklist, site, form_id="nonexistent"))
    assert response.status_code == 404
    assert "nonexistent" in message(response)
    response = post(
        client,
        inspector["key"],
        form(checklist, site, form_id=f"{checklist['campaign']}-v99", form_ver="99.1"),
    )
    assert response.status_code == 404
    wrong = f"{checklist['version'] + 1}.1"
    response = post(client, inspector["key"], form(checklist, site, form_ver=wrong))
    assert response.status_code == 404
    assert wrong in message(response)
    # An older revision of the form generator fills the same checklist version.
    response = post(
        client, inspector["key"], form(checklist, site, form_ver=f"{checklist['version']}.0")
    )
    assert response.status_code == 201
    assert count(app, Inspection) == 1


def test_a_post_over_the_announced_length_is_413(
    app, client, inspector, site, checklist, jpegs, media_dir
):
    from inspect_app.openrosa.submission_routes import MULTIPART_SLACK

    app.config["MAX_PHOTO_BYTES"] = 1000
    big = jpegs[0] * (MULTIPART_SLACK // len(jpegs[0]) + 2)
    response = post(client, inspector["key"], form(checklist, site), [("1715480000123.jpg", big)])
    assert response.status_code == 413
    openrosa_headers_ok(response)
    message(response)
    assert count(app, Inspection) == 0
    assert [p for p in media_dir.rglob("*") if p.is_file()] == []
    # The XML itself has its own, smaller limit.
    app.config["MAX_PHOTO_BYTES"] = 25 * 2**20
    padded = form(checklist, site).replace(b"</data>", b"<pad>" + b"x" * 2**21 + b"</pad></data>")
    response = post(client, inspector["key"], padded)
    assert response.status_code == 413
    message(response)


# -- the same instance again: more photos (201), different XML (409) -------------------


def test_the_same_xml_again_adds_the_photos_it_brings(
    app, client, inspector, site, checklist, jpegs, office, login
):
    instance = str(uuid.uuid4())
    findings = [
        {"item": checklist["plain"][0], "description": "灭火器过期", "photos": ["a.jpg", "b.jpg"]}
    ]
    xml = form(checklist, site, instance_id=instance, findings=findings)
    first = post(client, inspector["key"], xml, [("a.jpg", jpegs[0])], incomplete=True)
    assert first.status_code == 201
    message(first)
    stored = view(client, login, instance)
    assert stored["status"] == "awaiting_photos"
    assert len(stored["missing_photos"]) == 1
    [finding] = stored["findings"]
    assert finding["photos"][0] == hashlib.sha256(jpegs[0]).hexdigest()
    assert finding["photos"][1] == stored["missing_photos"][0]

    # The last post of the split submission brings the other photo.
    last = post(client, inspector["key"], xml, [("b.jpg", jpegs[1])])
    assert last.status_code == 201
    assert message(last) == "检查记录已提交"
    stored = view(client, login, instance)
    assert stored["status"] == "complete" and stored["missing_photos"] == []
    assert stored["findings"][0]["photos"] == [hashlib.sha256(p).hexdigest() for p in jpegs[:2]]
    # A retry of either post changes nothing.
    assert post(client, inspector["key"], xml, [("a.jpg", jpegs[0])]).status_code == 201
    assert post(client, inspector["key"], xml).status_code == 201
    assert view(client, login, instance) == stored
    assert count(app, Inspection) == 1 and count(app, Finding) == 1 and count(app, Photo) == 2


def test_different_xml_for_the_same_instance_is_409(app, client, inspector, site, checklist, jpegs):
    instance = str(uuid.uuid4())
    xml = form(checklist, site, instance_id=instance)
    assert post(client, inspector["key"], xml, [("1715480000123.jpg", jpegs[0])]).status_code == 201
    other = form(checklist, site, instance_id=instance, final=False)
    response = post(client, inspector["key"], other, [("1715480000123.jpg", jpegs[1])])
    assert response.status_code == 409
    assert "不同" in message(response)
    with app.app_context():
        assert db.session.scalar(select(FormSubmission.xml)) == xml
    # The refused post's photo is not kept.
    assert count(app, Photo) == 1


def test_another_users_instance_id_is_409(
    app, client, make_user, inspector, site, checklist, jpegs
):
    instance = str(uuid.uuid4())
    xml = form(checklist, site, instance_id=instance)
    assert post(client, inspector["key"], xml, [("1715480000123.jpg", jpegs[0])]).status_code == 201
    other_id = make_user("collect2", "inspector", ["东城区"])
    other_key = issue_key(app, other_id)
    response = post(client, other_key, xml, [("1715480000123.jpg", jpegs[0])])
    assert response.status_code == 409
    message(response)


# -- edits: deprecatedID -----------------------------------------------------------------


def test_an_edit_replaces_the_draft_and_only_the_newest_version_may_be_edited(
    app, client, inspector, site, checklist, jpegs, office, login
):
    one, two, three = (str(uuid.uuid4()) for _ in range(3))
    draft = form(checklist, site, instance_id=one, final=False)
    response = post(client, inspector["key"], draft, [("1715480000123.jpg", jpegs[0])])
    assert response.status_code == 201
    assert message(response).startswith("已保存为草稿")

    # Unknown deprecatedID: 404.
    unknown = form(checklist, site, instance_id=two, deprecated_id=str(uuid.uuid4()))
    response = post(client, inspector["key"], unknown)
    assert response.status_code == 404
    message(response)

    # The edit (photo carried over from the edited instance, description changed).
    plain = checklist["plain"]
    edited_findings = [
        {"item": plain[0], "description": "改：油罐区接地装置损坏", "photos": ["1715480000123.jpg"]}
    ]
    edit = form(checklist, site, instance_id=two, deprecated_id=one, findings=edited_findings)
    response = post(client, inspector["key"], edit)
    assert response.status_code == 201, message(response)
    stored = view(client, login, one)
    assert stored["final"] is True and stored["status"] == "complete"
    assert stored["findings"][0]["description"] == "改：油罐区接地装置损坏"
    assert stored["findings"][0]["photos"] == [hashlib.sha256(jpegs[0]).hexdigest()]
    assert count(app, Inspection) == 1

    # Editing the old copy again: 409 (out of date), as Central answers.
    stale = form(checklist, site, instance_id=three, deprecated_id=one, final=False)
    response = post(client, inspector["key"], stale)
    assert response.status_code == 409
    assert "旧版本" in message(response)

    # Editing the newest one, now final: the inspection service refuses it.
    late = form(checklist, site, instance_id=three, deprecated_id=two, final=False)
    response = post(client, inspector["key"], late, [("1715480000123.jpg", jpegs[0])])
    assert response.status_code == 409
    assert "已定稿" in message(response)
    assert view(client, login, one) == stored
    with app.app_context():
        rows = {r.instance_id: r.current for r in db.session.scalars(select(FormSubmission))}
    assert rows == {one: False, two: True}


def test_a_record_whose_finding_the_office_voided_cannot_be_edited(
    app, client, inspector, site, checklist, jpegs, office, login
):
    one, two = str(uuid.uuid4()), str(uuid.uuid4())
    draft = form(checklist, site, instance_id=one, final=False)
    assert (
        post(client, inspector["key"], draft, [("1715480000123.jpg", jpegs[0])]).status_code == 201
    )
    finding = view(client, login, one)["findings"][0]["id"]
    voided = client.post(
        f"/api/v1/findings/{finding}/events",
        json={"action": "void", "note": "录入错误"},
        headers=login("office1"),
    )
    assert voided.status_code in (200, 201), voided.get_json()
    # Sending the same XML again is still fine (a retry); an edit is refused.
    assert post(client, inspector["key"], draft).status_code == 201
    edit = form(checklist, site, instance_id=two, deprecated_id=one)
    response = post(client, inspector["key"], edit)
    assert response.status_code == 409
    assert "整改流程" in message(response)
    assert view(client, login, one)["findings"][0]["status"] == "voided"


# -- the inspection rules: 422 with the schema's and the service's messages --------------


def test_a_record_the_rules_refuse_is_422_and_leaves_no_photo_behind(
    app, client, inspector, site, checklist, jpegs, media_dir
):
    plain = checklist["plain"]
    # Failed item without a finding; deadline before the inspection.
    xml = form(
        checklist,
        site,
        answers={plain[0]: "fail", plain[1]: "fail"},
        findings=[
            {
                "item": plain[0],
                "description": "问题",
                "deadline": "2025-01-01",
                "photos": ["1715480000123.jpg"],
            }
        ],
    )
    response = post(client, inspector["key"], xml, [("1715480000123.jpg", jpegs[2])])
    assert response.status_code == 422
    text = message(response)
    assert "整改时限" in text and "不合格" in text
    assert count(app, Inspection) == 0 and count(app, Photo) == 0
    assert [p for p in media_dir.rglob("*") if p.is_file()] == []

    # A value the form cannot have made: the schema's message, by Chinese label.
    bad = form(checklist, site, started_at="yesterday")
    response = post(client, inspector["key"], bad, [("1715480000123.jpg", jpegs[2])])
    assert response.status_code == 422
    assert "检查开始时间" in message(response)

    # A site outside the inspector's districts.
    response = post(client, inspector["key"], form(checklist, site + 1000))
    assert response.status_code == 422
    assert "站点" in message(response)


def test_a_site_retired_or_merged_while_the_phone_was_offline_says_what_to_do(
    app, client, inspector, site, make_site, checklist, jpegs, media_dir, office, login
):
    """(Central: a submission to a deleted record is refused.) The inspector filled the
    form offline from an old sites.csv; the office has since merged or retired the site.
    Collect keeps the form and shows the message, which says what to do."""
    winner = make_site(name="格尔木昆仑路加油站（合并后）")
    merged = client.post(
        f"/api/v1/sites/{site}/merge", json={"into": winner}, headers=login("office1")
    )
    assert merged.status_code == 200, merged.get_json()
    photo = [("1715480000123.jpg", jpegs[0])]
    response = post(client, inspector["key"], form(checklist, site), photo)
    assert response.status_code == 422
    text = message(response)
    assert "已并入「格尔木昆仑路加油站（合并后）」" in text and f"编号 {winner}" in text
    # The same inspection sent to the site it was merged into is taken.
    assert post(client, inspector["key"], form(checklist, winner), photo).status_code == 201

    closed = make_site(name="格尔木已关停加油站")
    retired = client.post(
        f"/api/v1/sites/{closed}/retire", json={"note": "已取缔"}, headers=login("office1")
    )
    assert retired.status_code == 200
    response = post(client, inspector["key"], form(checklist, closed), [("1.jpg", jpegs[1])])
    assert response.status_code == 422 and "已注销" in message(response)
    assert count(app, Inspection) == 1 and count(app, Photo) == 1
    kept = {p.name for p in (media_dir / "originals").rglob("*") if p.is_file()}
    assert kept == {hashlib.sha256(jpegs[0]).hexdigest()}


def test_a_part_that_is_no_photo_is_refused_and_not_kept(
    app, client, inspector, site, checklist, media_dir
):
    response = post(
        client,
        inspector["key"],
        form(checklist, site),
        [("1715480000123.jpg", b"not a jpeg" * 100)],
    )
    assert response.status_code == 415
    assert "1715480000123.jpg" in message(response)
    assert [p for p in media_dir.rglob("*") if p.is_file()] == []
    assert count(app, Inspection) == 0


def test_parts_the_xml_does_not_quote_are_ignored(app, client, inspector, site, checklist, jpegs):
    files = [("1715480000123.jpg", jpegs[0]), ("stray.jpg", jpegs[3])]
    assert post(client, inspector["key"], form(checklist, site), files).status_code == 201
    assert count(app, Photo) == 1


# -- the same services as the JSON API -----------------------------------------------------


def test_a_submission_stores_what_the_same_inspection_put_as_json_stores(
    app, client, inspector, site, checklist, jpegs, office, login, make_user
):
    plain = checklist["plain"]
    instance = str(uuid.uuid4())
    findings = [
        {
            "id": str(uuid.uuid4()),
            "item": plain[0],
            "description": "立行立改：清理油罐区杂物",
            "major_hazard": True,
            "fixed_on_spot": True,
            "deadline": "2025-05-20",
            "photos": ["1.jpg"],
        }
    ]
    xml = form(checklist, site, instance_id=instance, findings=findings)
    assert post(client, inspector["key"], xml, [("1.jpg", jpegs[4])]).status_code == 201

    make_user("phone1", "inspector", ["东城区"])
    phone = login("phone1")
    sha = hashlib.sha256(jpegs[4]).hexdigest()
    assert client.put(
        f"/api/v1/photos/{sha}", data=jpegs[4], headers=phone, content_type="image/jpeg"
    ).status_code in (200, 201)
    twin = str(uuid.uuid4())
    body = {
        "campaign": checklist["campaign"],
        "checklist_version": checklist["version"],
        "site_id": site,
        "started_at": "2025-05-12T09:30:00.000+08:00",
        "finished_at": "2025-05-12T10:05:00.000+08:00",
        "location": {"lat": 36.4167, "lon": 94.9033},
        "answers": [
            {"item_code": plain[0], "result": "fail"},
            {"item_code": plain[1], "result": "pass"},
            {"item_code": plain[2], "result": "na"},
        ],
        "findings": [
            {
                "id": str(uuid.uuid4()),
                "item_code": plain[0],
                "description": "立行立改：清理油罐区杂物",
                "major_hazard": True,
                "fixed_on_spot": True,
                "deadline": "2025-05-20",
                "photos": [sha],
            }
        ],
        "final": True,
    }
    assert client.put(f"/api/v1/inspections/{twin}", json=body, headers=phone).status_code == 201

    def comparable(stored):
        for key in ("id", "uuid", "inspector", "source"):
            stored.pop(key)
        for finding in stored["findings"]:
            finding.pop("id"), finding.pop("server_id")
        stored["answers"].sort(key=lambda a: a["item_code"])
        return stored

    from_collect, from_app = view(client, login, instance), view(client, login, twin)
    assert from_collect["source"] == "collect" and from_app["source"] == "app"
    assert from_collect["findings"][0]["status"] == "closed"
    assert comparable(from_collect) == comparable(from_app)


def test_enketo_is_told_apart_by_its_user_agent(
    app, client, inspector, site, checklist, jpegs, office, login
):
    instance = str(uuid.uuid4())
    xml = form(checklist, site, instance_id=instance)
    response = post(
        client, inspector["key"], xml, [("1715480000123.jpg", jpegs[5])], agent=ENKETO_AGENT
    )
    assert response.status_code == 201
    assert view(client, login, instance)["source"] == "enketo"


def test_the_site_page_shows_where_each_finding_came_from(
    app, client, inspector, site, checklist, jpegs, office, login
):
    from tests.test_web import web_login

    xml = form(checklist, site)
    assert post(client, inspector["key"], xml, [("1715480000123.jpg", jpegs[0])]).status_code == 201
    body = {
        "campaign": checklist["campaign"],
        "checklist_version": checklist["version"],
        "site_id": site,
        "started_at": "2025-05-13T09:30:00+08:00",
        "answers": [{"item_code": checklist["plain"][1], "result": "fail"}],
        "findings": [
            {"id": str(uuid.uuid4()), "item_code": checklist["plain"][1], "description": "台账缺失"}
        ],
    }
    headers = login("office1")
    assert (
        client.put(f"/api/v1/inspections/{uuid.uuid4()}", json=body, headers=headers).status_code
        == 201
    )
    web_login(client, "office1")
    page = client.get(f"/dashboard/sites/{site}").get_data(as_text=True)
    assert page.count("<dt>记录来源</dt><dd>ODK Collect</dd>") == 1
    assert page.count("<dt>记录来源</dt><dd>检查 App</dd>") == 1
