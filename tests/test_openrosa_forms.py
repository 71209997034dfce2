"""ODK Collect, KoboCollect and Enketo fetching forms (issue 18): the OpenRosa headers,
the key, formList, the form, its manifest and sites.csv, the submission probe.

What ODK Central's integration tests pin for these endpoints (test/integration/api/
forms/list.js, app-users.js) is ported here: the headers on every answer, 400 without
X-OpenRosa-Version, 401 for a key that cannot be one and 403 for one that is not (or no
longer) valid, the list's XML and its ``formID`` filter, the hash of each form's bytes.
Every generated form also goes through a real XForm engine (enketo-transformer).
"""

import csv
import hashlib
import io
import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sqlalchemy import select

from inspect_app.auth.models import User
from inspect_app.campaigns.models import Campaign, ChecklistItem, ChecklistVersion
from inspect_app.extensions import db
from inspect_app.openrosa import form_names, keys, xform
from inspect_app.openrosa import forms as openrosa_forms

OR = {"X-OpenRosa-Version": "1.0"}
LIST_NS = {"x": "http://openrosa.org/xforms/xformsList"}
MANIFEST_NS = {"m": "http://openrosa.org/xforms/xformsManifest"}
RESPONSE_NS = "{http://openrosa.org/http/response}"
XF = "{http://www.w3.org/2002/xforms}"
H = "{http://www.w3.org/1999/xhtml}"
CAMPAIGNS = (
    "hazchem-2025",
    "placer-gold-2024",
    "recycling-2025",
    "refined-oil-2025",
    "sand-gravel-2024",
)
ENGINE = Path(__file__).parent / "xform_engine"


def issue_key(app, user_id: int) -> str:
    with app.app_context():
        token = keys.issue(db.session.get(User, user_id), None)
        db.session.commit()
        return token


@pytest.fixture
def inspector(app, make_user, make_site):
    """An inspector of 东城区 with a key; a 东城区 and a 西城区 fuel station."""
    user_id = make_user("insp_east", "inspector", ["东城区"])
    east = make_site("昆仑路加油站", "东城区", "加油站", address="昆仑路 12 号")
    west = make_site("西城加油站", "西城区", "加油站")
    return {"id": user_id, "token": issue_key(app, user_id), "east": east, "west": west}


def url(token: str, tail: str) -> str:
    return f"/openrosa/key/{token}/{tail}"


def form_list(client, token: str, query: str = "") -> ET.Element:
    answer = client.get(url(token, "formList" + query), headers=OR)
    assert answer.status_code == 200, answer.text
    # Collect is particular about this (Central's test says so too).
    assert answer.headers["Content-Type"] == "text/xml; charset=utf-8"
    return ET.fromstring(answer.data)


def path_of(link: str) -> str:
    assert link.startswith("http://localhost/openrosa/key/")
    return link.removeprefix("http://localhost")


def assert_openrosa_headers(answer) -> None:
    assert answer.headers["X-OpenRosa-Version"] == "1.0"
    assert int(answer.headers["X-OpenRosa-Accept-Content-Length"]) > 1_000_000
    assert answer.headers["Date"].endswith(" GMT")


def error_message(answer) -> str:
    assert answer.headers["Content-Type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(answer.data)
    assert root.tag == f"{RESPONSE_NS}OpenRosaResponse"
    message = root.find(f"{RESPONSE_NS}message")
    assert message.get("nature") == "error"
    return message.text


def test_every_answer_carries_the_openrosa_headers(client, inspector):
    token = inspector["token"]
    form_id = form_names.form_id("refined-oil-2025", 1)
    answers = [
        client.get(url(token, "formList"), headers=OR),
        client.get(url(token, f"forms/{form_id}.xml"), headers=OR),
        client.get(url(token, f"forms/{form_id}/manifest"), headers=OR),
        client.get(url(token, f"forms/{form_id}/attachments/sites.csv"), headers=OR),
        client.head(url(token, "submission"), headers=OR),
        client.get(url(token, "submission"), headers=OR),
        client.get(url(token, "formList")),  # 400
        client.get(url("not-a-key", "formList"), headers=OR),  # 401
        client.get(url("A" * 64, "formList"), headers=OR),  # 403
        client.get(url(token, "forms/no-such-form-v1.xml"), headers=OR),  # 404
        client.get(url(token, "no-such-thing"), headers=OR),  # 404 of the router
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 204, 204] + [
        400,
        401,
        403,
        404,
        404,
    ]
    for answer in answers:
        assert_openrosa_headers(answer)
    for answer in answers[6:]:
        assert error_message(answer)


@pytest.mark.parametrize("tail", ["formList", "forms/refined-oil-2025-v1/manifest", "submission"])
def test_without_the_version_header_400_before_the_key(client, inspector, tail):
    for token in (inspector["token"], "A" * 64, "bad"):
        answer = client.get(url(token, tail))
        assert answer.status_code == 400
        assert "X-OpenRosa-Version" in error_message(answer)
    # Another version is no better; the request's Date is never asked for.
    other = {"X-OpenRosa-Version": "2.0"}
    assert client.get(url(inspector["token"], tail), headers=other).status_code == 400
    ok = client.get(url(inspector["token"], tail), headers=OR)
    assert ok.status_code in (200, 204)


def test_a_key_that_cannot_be_one_is_401_an_unknown_one_403(client, inspector):
    token = inspector["token"]
    for bad in ("short", token[:-1], token + "x", token[:-1] + "!"):
        answer = client.get(url(bad, "formList"), headers=OR)
        assert answer.status_code == 401, bad
        assert "密钥" in error_message(answer)
    other = "B" * 64
    answer = client.get(url(other, "formList"), headers=OR)
    assert answer.status_code == 403 and "吊销" in error_message(answer)
    # A bearer token of the JSON API is no key.
    assert client.get(url(token, "formList"), headers=OR).status_code == 200


def test_a_revoked_key_or_a_disabled_user_stops_at_once(app, client, inspector, make_user, login):
    app.config["AUTH_CACHE_SECONDS"] = 60  # remembered logins must not keep a key alive
    make_user("office", "office", [])
    office = login("office")
    token = inspector["token"]
    user_id = inspector["id"]
    assert client.get(url(token, "formList"), headers=OR).status_code == 200
    assert client.delete(f"/api/v1/users/{user_id}/app-key", headers=office).status_code == 204
    assert client.get(url(token, "formList"), headers=OR).status_code == 403
    assert client.head(url(token, "submission"), headers=OR).status_code == 403

    again = issue_key(app, user_id)
    assert client.get(url(again, "formList"), headers=OR).status_code == 200
    changed = client.patch(f"/api/v1/users/{user_id}", json={"active": False}, headers=office)
    assert changed.status_code == 200
    for tail in ("formList", "forms/refined-oil-2025-v1.xml", "submission"):
        assert client.get(url(again, tail), headers=OR).status_code == 403
    client.patch(f"/api/v1/users/{user_id}", json={"active": True}, headers=office)
    assert client.get(url(again, "formList"), headers=OR).status_code == 200


def test_form_list_holds_each_campaign_and_hashes_the_bytes_it_serves(client, inspector):
    token = inspector["token"]
    root = form_list(client, token)
    assert root.tag == "{http://openrosa.org/xforms/xformsList}xforms"
    entries = root.findall("x:xform", LIST_NS)
    ids = [e.findtext("x:formID", namespaces=LIST_NS) for e in entries]
    assert ids == [form_names.form_id(code, 1) for code in CAMPAIGNS]
    for entry in entries:
        form_id = entry.findtext("x:formID", namespaces=LIST_NS)
        assert "（检查清单第 1 版）" in entry.findtext("x:name", namespaces=LIST_NS)
        assert entry.findtext("x:version", namespaces=LIST_NS) == xform.form_version(1)
        download = client.get(path_of(entry.findtext("x:downloadUrl", namespaces=LIST_NS)))
        assert download.status_code == 200
        assert download.headers["Content-Type"] == "text/xml; charset=utf-8"
        md5 = hashlib.md5(download.data).hexdigest()
        assert entry.findtext("x:hash", namespaces=LIST_NS) == f"md5:{md5}"
        instance = ET.fromstring(download.data).find(f"{H}head/{XF}model/{XF}instance/{XF}data")
        assert instance.get("id") == form_id and instance.get("version") == xform.form_version(1)
        manifest = client.get(
            path_of(entry.findtext("x:manifestUrl", namespaces=LIST_NS)), headers=OR
        )
        assert manifest.status_code == 200
        media = ET.fromstring(manifest.data).findall("m:mediaFile", MANIFEST_NS)
        assert [m.findtext("m:filename", namespaces=MANIFEST_NS) for m in media] == ["sites.csv"]


def test_form_id_narrows_the_list(client, inspector):
    token = inspector["token"]
    wanted = form_names.form_id("recycling-2025", 1)
    root = form_list(client, token, f"?formID={wanted}")
    assert [e.findtext("x:formID", namespaces=LIST_NS) for e in root] == [wanted]
    assert list(form_list(client, token, "?formID=xyz")) == []


def test_the_same_checklist_version_gives_the_same_bytes(app, client, inspector):
    token = inspector["token"]
    path = url(inspector["token"], "forms/hazchem-2025-v1.xml")
    first = client.get(path).data
    assert client.get(path).data == first
    with app.app_context():
        campaign, version = openrosa_forms.version_for_form("hazchem-2025-v1")
        # Made anew (not from the process's cache), the form is byte for byte the same.
        assert xform.render(openrosa_forms.form_source(campaign, version)).xml == first
    assert token


def test_a_new_checklist_version_is_a_new_form_and_the_old_one_still_downloads(
    app, client, inspector
):
    from inspect_app.campaigns.checklist_file import checklist_digest, read_checklist
    from inspect_app.campaigns.services import publish_checklist

    token = inspector["token"]
    old = client.get(url(token, "forms/refined-oil-2025-v1.xml")).data
    with app.app_context():
        data = read_checklist(Path(app.config["CHECKLISTS_DIR"]) / "refined-oil-2025.yaml")
        data["items"][0]["text"] = "运油车辆所载油品来源是否合法？"
        assert publish_checklist(data, checklist_digest(data)).version == 2
        db.session.commit()
    listed = [e.findtext("x:formID", namespaces=LIST_NS) for e in form_list(client, token)]
    assert "refined-oil-2025-v2" in listed and "refined-oil-2025-v1" not in listed
    new = client.get(url(token, "forms/refined-oil-2025-v2.xml")).data
    assert "运油车辆所载油品来源是否合法？".encode() in new and new != old
    # A submission begun on the old form can still be edited with it.
    assert client.get(url(token, "forms/refined-oil-2025-v1.xml")).data == old


def form_fields(xml: bytes) -> dict:
    """The instance of a form: item fields, finding fields, bindings and labels."""
    root = ET.fromstring(xml)
    data = root.find(f"{H}head/{XF}model/{XF}instance/{XF}data")
    binds = {b.get("nodeset"): b for b in root.iter(f"{XF}bind")}
    labels = {
        el.get("ref"): (el.findtext(f"{XF}label"), el.findtext(f"{XF}hint"))
        for el in root.iter()
        if el.get("ref") and el.find(f"{XF}label") is not None
    }
    return {"data": data, "binds": binds, "labels": labels, "root": root}


def test_the_form_asks_every_item_with_its_text_and_basis(app, client, inspector):
    form_id = form_names.form_id("refined-oil-2025", 1)
    form = form_fields(client.get(url(inspector["token"], f"forms/{form_id}.xml")).data)
    data = form["data"]
    with app.app_context():
        version = db.session.scalar(
            select(ChecklistVersion).join(Campaign).where(Campaign.code == "refined-oil-2025")
        )
        items = list(
            db.session.scalars(
                select(ChecklistItem)
                .where(ChecklistItem.checklist_version_id == version.id)
                .order_by(ChecklistItem.position)
            )
        )
        item_rows = [(i.code, i.text, i.basis, list(i.site_types)) for i in items]
        key_items = {form_names.item_field(i.code) for i in items if i.default_severity == "key"}
    children = [c.tag.removeprefix(XF) for c in data]
    assert children == [
        form_names.STARTED_AT,
        form_names.FINISHED_AT,
        form_names.SITE,
        form_names.LOCATION,
        form_names.ITEMS,
        form_names.FINDINGS,  # the repeat's template
        form_names.FINDINGS,  # and its first instance
        form_names.FINAL,
        "meta",
    ]
    fields = [c.tag.removeprefix(XF) for c in data.find(f"{XF}{form_names.ITEMS}")]
    assert fields == [form_names.item_field(code) for code, *_ in item_rows]
    finding = data.find(f"{XF}{form_names.FINDINGS}")
    assert [c.tag.removeprefix(XF) for c in finding] == [
        form_names.FINDING_ID,
        form_names.FINDING_ITEM,
        form_names.DESCRIPTION,
        form_names.SEVERITY,
        form_names.MAJOR_HAZARD,
        form_names.REQUIREMENT,
        form_names.DEADLINE,
        form_names.FIXED_ON_SPOT,
        form_names.PHOTOS,
    ]
    assert data.find(f"{XF}meta/{XF}instanceID") is not None
    binds = form["binds"]
    for code, text, basis, site_types in item_rows:
        ref = f"/data/items/{form_names.item_field(code)}"
        label, hint = form["labels"][ref]
        assert label == text and basis in hint and code in hint
        # An item for other kinds of site is not asked at a site of another kind.
        for site_type in site_types:
            assert f"'{site_type}'" in binds[ref].get("relevant")
    # Choosing the finding's item sets its severity to the item's default (一般/重点).
    [preset] = [
        el
        for el in form["root"].iter(f"{XF}setvalue")
        if el.get("ref") == "/data/findings/severity"
    ]
    listed = set(preset.get("value").split("'")[1].split())
    assert listed == key_items and 0 < len(key_items) < len(item_rows)
    assert binds["/data/findings/finding_id"].get("calculate") == "once(uuid())"
    assert binds["/data/findings/deadline"].get("type") == "date"
    assert binds["/data/findings/photos/photo"].get("type") == "binary"
    assert binds["/data/location"].get("type") == "geopoint"
    assert "fail" in binds["/data/findings"].get("relevant")
    # Chinese labels throughout: the site, the answers, the finding's fields.
    assert form["labels"]["/data/site"][0] == "检查对象"
    assert form["labels"]["/data/findings/severity"][0] == "问题等级"
    xml = ET.tostring(form["root"], encoding="unicode")
    for word in ("合格", "不合格", "不适用", "一般问题", "重点问题", "重大事故隐患", "立行立改"):
        assert word in xml
    assert 'src="jr://file-csv/sites.csv"' in xml


def sites_rows(client, token: str, form_id: str) -> list[dict]:
    answer = client.get(url(token, f"forms/{form_id}/attachments/sites.csv"), headers=OR)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.data.decode("utf-8"))))


def manifest_hash(client, token: str, form_id: str) -> str:
    answer = client.get(url(token, f"forms/{form_id}/manifest"), headers=OR)
    media = ET.fromstring(answer.data).find("m:mediaFile", MANIFEST_NS)
    return media.findtext("m:hash", namespaces=MANIFEST_NS)


def test_manifest_hash_is_the_file_and_changes_when_a_site_is_added(client, inspector, make_site):
    token = inspector["token"]
    form_id = form_names.form_id("refined-oil-2025", 1)
    before = manifest_hash(client, token, form_id)
    data = client.get(url(token, f"forms/{form_id}/attachments/sites.csv"), headers=OR).data
    assert before == f"md5:{hashlib.md5(data).hexdigest()}"
    assert manifest_hash(client, token, form_id) == before
    make_site("新登记的油库", "东城区", "油库")
    after = manifest_hash(client, token, form_id)
    assert after != before
    assert "新登记的油库" in {row["label"] for row in sites_rows(client, token, form_id)}


def test_an_inspector_sees_only_the_sites_of_their_districts(
    app, client, inspector, make_user, make_site
):
    form_id = form_names.form_id("refined-oil-2025", 1)
    make_site("格尔木东站砂场", "东城区", "砂石料场")  # not a kind refined-oil checks
    rows = sites_rows(client, inspector["token"], form_id)
    assert rows == [
        {
            "name": str(inspector["east"]),
            "label": "昆仑路加油站 · 昆仑路 12 号",
            "district": "东城区",
            "site_type": "加油站",
        }
    ]
    west = issue_key(app, make_user("insp_west", "inspector", ["西城区"]))
    assert [r["name"] for r in sites_rows(client, west, form_id)] == [str(inspector["west"])]
    office = issue_key(app, make_user("office", "office", []))
    assert {r["name"] for r in sites_rows(client, office, form_id)} == {
        str(inspector["east"]),
        str(inspector["west"]),
    }
    # A file the manifest does not list is 404.
    answer = client.get(url(inspector["token"], f"forms/{form_id}/attachments/x.csv"), headers=OR)
    assert answer.status_code == 404 and error_message(answer)


def test_head_and_get_of_the_submission_url_are_204_without_a_body(client, inspector):
    for method in ("HEAD", "GET"):
        answer = client.open(url(inspector["token"], "submission"), method=method, headers=OR)
        assert answer.status_code == 204 and answer.data == b""
        assert_openrosa_headers(answer)


def test_a_public_url_setting_makes_the_links(app, client, inspector):
    app.config["PUBLIC_URL"] = "https://inspect.example.org"
    root = form_list(client, inspector["token"], "?formID=refined-oil-2025-v1")
    link = root.find("x:xform", LIST_NS).findtext("x:downloadUrl", namespaces=LIST_NS)
    assert link == (
        f"https://inspect.example.org/openrosa/key/{inspector['token']}"
        "/forms/refined-oil-2025-v1.xml"
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_form_goes_through_a_real_xform_engine(app, client, inspector, tmp_path):
    """enketo-transformer (run with node) makes each campaign's form into Enketo's HTML
    form and model, and the model holds every item of the checklist."""
    script = ENGINE / "transform.cjs"
    if not (ENGINE / "node_modules" / "enketo-transformer").is_dir():
        pytest.fail("the XForm engine is not installed: run `make test` (it runs npm ci)")
    token = inspector["token"]
    paths, expected = [], {}
    with app.app_context():
        for code in CAMPAIGNS:
            version = db.session.scalar(
                select(ChecklistVersion).join(Campaign).where(Campaign.code == code)
            )
            codes = db.session.scalars(
                select(ChecklistItem.code).where(ChecklistItem.checklist_version_id == version.id)
            ).all()
            form_id = form_names.form_id(code, version.version)
            path = tmp_path / f"{form_id}.xml"
            path.write_bytes(client.get(url(token, f"forms/{form_id}.xml")).data)
            paths.append(str(path))
            expected[str(path)] = (form_id, [form_names.item_field(c) for c in codes])
    run = subprocess.run(
        ["node", str(script), *paths], capture_output=True, text=True, timeout=300, cwd=ENGINE
    )
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)["results"]
    for path, (form_id, fields) in expected.items():
        result = results[path]
        assert "error" not in result, result.get("error")
        model = ET.fromstring(result["model"])
        data = model.find("instance/data")
        assert data.get("id") == form_id
        held = [c.tag for c in data.find("items")]
        assert held == fields and len(fields) > 3
        finding = data.find("findings")
        for name in (form_names.FINDING_ID, form_names.DESCRIPTION, form_names.DEADLINE):
            assert finding.find(name) is not None
        assert data.find("meta/instanceID") is not None
        # The HTML form asks each item, with its hint (the basis).
        for field in fields:
            assert f'name="/data/items/{field}"' in result["form"]
