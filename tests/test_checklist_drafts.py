"""The office's own checklist workflow (issue 15 item 5): notice → draft → edit → publish.

Real PDFs (reportlab with the reports' CJK font) read back by poppler's pdftotext, real
databases (both backends), the real ``inspect-app checklists load`` on the downloaded YAML.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from tests.conftest import SHARED
from tests.helpers import assert_error
from tests.support.notice_pdf import notice_pdf

BIN = Path(sys.executable).parent / "inspect-app"
CODE = "placer-gold-2024"
NOTICE = SHARED / "campaigns" / f"{CODE}.txt"
UPLOAD = f"/api/v1/checklist-drafts?campaign={CODE}"


@pytest.fixture
def office(make_user, login):
    make_user("office1", role="office", districts=())
    return login("office1")


@pytest.fixture
def lead(make_user, login):
    make_user("lead1", role="team_lead")
    return login("lead1")


@pytest.fixture
def inspector(make_user, login):
    make_user("insp1", role="inspector")
    return login("insp1")


def upload_text(client, headers, text: str, url: str = UPLOAD):
    return client.post(
        url, data=text.encode(), headers={**headers, "Content-Type": "text/plain; charset=utf-8"}
    )


def upload_pdf(client, headers, data: bytes, url: str = UPLOAD):
    return client.post(url, data=data, headers={**headers, "Content-Type": "application/pdf"})


def make_draft(client, office) -> dict:
    response = upload_text(client, office, NOTICE.read_text(encoding="utf-8"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def count_drafts(app) -> int:
    from inspect_app.campaigns.models import ChecklistDraft
    from inspect_app.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ChecklistDraft))


def versions(app, code=CODE) -> list[int]:
    from inspect_app.campaigns.models import Campaign, ChecklistVersion
    from inspect_app.extensions import db

    with app.app_context():
        return list(
            db.session.scalars(
                select(ChecklistVersion.version)
                .join(Campaign)
                .where(Campaign.code == code)
                .order_by(ChecklistVersion.version)
            )
        )


def publish(client, office, draft_id, base):
    return client.post(
        f"/api/v1/checklist-drafts/{draft_id}/publish", json={"base_version": base}, headers=office
    )


# ---------------------------------------------------------------------------
# Upload


def test_a_notice_pdf_becomes_a_draft_with_each_item_beside_its_clause(client, office, tmp_path):
    pdf = notice_pdf(NOTICE.read_text(encoding="utf-8"), tmp_path / "notice.pdf")
    response = upload_pdf(client, office, pdf.read_bytes())
    assert response.status_code == 201, response.get_json()
    draft = response.get_json()
    assert draft["status"] == "draft"
    assert draft["campaign"]["document_no"] == "格政办发〔2024〕69号"
    assert draft["campaign"]["issued_on"] == "2024-07-19"
    assert draft["summary"]["items"] == len(draft["items"]) > 0
    for item in draft["items"]:
        assert item["text"].endswith("？")
        assert item["basis"] and item["clause"] and item["clause_label"]
        # The clause's words come from the notice itself.
        assert item["basis"][:6] in NOTICE.read_text(encoding="utf-8").replace("\n", "")
    # The same notice as text gives the same items: the PDF lost nothing.
    same = make_draft(client, office)
    assert [i["text"] for i in same["items"]] == [i["text"] for i in draft["items"]]


@pytest.mark.parametrize(
    "body",
    [
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF",  # broken
        b"\x89PNG\r\n\x1a\n not a pdf at all",
        b"",
    ],
    ids=["broken", "not-a-pdf", "empty"],
)
def test_a_bad_pdf_is_a_422_in_chinese_and_stores_nothing(app, client, office, body):
    error = assert_error(upload_pdf(client, office, body), 422, "validation_error")
    assert "PDF" in error["message"]
    assert count_drafts(app) == 0


def test_a_pdf_without_text_says_it_may_be_a_scan(app, client, office, tmp_path):
    from reportlab.pdfgen import canvas

    blank = tmp_path / "scan.pdf"
    page = canvas.Canvas(str(blank))
    page.rect(100, 100, 300, 400, fill=1)  # a page with a picture and no text, as a scan
    page.showPage()
    page.save()
    error = assert_error(upload_pdf(client, office, blank.read_bytes()), 422, "validation_error")
    assert "扫描件" in error["message"]
    assert count_drafts(app) == 0


@pytest.mark.parametrize(
    "text", ["", "   \n\n  ", "关于做好春节期间值班工作的通知\n请各单位做好值班。"]
)
def test_an_empty_or_unusable_notice_is_a_422(app, client, office, text):
    error = assert_error(upload_text(client, office, text), 422, "validation_error")
    assert error["message"]
    assert count_drafts(app) == 0


def test_text_that_is_not_utf8_or_holds_nul_is_refused(app, client, office):
    bad = client.post(
        UPLOAD,
        data="格尔木市人民政府办公室".encode("gbk"),
        headers={**office, "Content-Type": "text/plain"},
    )
    assert "UTF-8" in assert_error(bad, 422, "validation_error")["message"]
    assert_error(upload_text(client, office, "通知\x00全文"), 422, "validation_error")
    other = client.post(UPLOAD, data=b"x", headers={**office, "Content-Type": "image/png"})
    assert_error(other, 415, "unsupported_media_type")
    assert count_drafts(app) == 0


def test_a_bad_campaign_code_is_a_422(client, office):
    url = "/api/v1/checklist-drafts?campaign=Placer Gold"
    assert_error(upload_text(client, office, NOTICE.read_text(), url), 422, "validation_error")


# ---------------------------------------------------------------------------
# Roles


def test_only_the_office_works_on_drafts(app, client, office, lead, inspector):
    draft = make_draft(client, office)
    text = NOTICE.read_text(encoding="utf-8")
    item = draft["items"][0]["id"]
    for headers in (lead, inspector):
        assert_error(upload_text(client, headers, text), 403, "forbidden")
        assert_error(
            client.get(f"/api/v1/checklist-drafts/{draft['id']}", headers=headers), 403, "forbidden"
        )
        patch = client.patch(
            f"/api/v1/checklist-drafts/{draft['id']}/items/{item}",
            json={"text": "是否有人？"},
            headers=headers,
        )
        assert_error(patch, 403, "forbidden")
        assert_error(publish(client, headers, draft["id"], 1), 403, "forbidden")
        yaml_get = client.get(f"/api/v1/campaigns/{CODE}/checklist.yaml", headers=headers)
        assert_error(yaml_get, 403, "forbidden")
    assert_error(client.post(UPLOAD, data=b"x"), 401, "unauthorized")
    assert count_drafts(app) == 1
    assert versions(app) == [1]


# ---------------------------------------------------------------------------
# Editing


def test_edit_delete_add_merge_and_reorder(client, office):
    draft = make_draft(client, office)
    base = f"/api/v1/checklist-drafts/{draft['id']}"
    first, second, third = draft["items"][:3]
    edited = client.patch(
        f"{base}/items/{first['id']}",
        json={
            "text": "现场是否仍有采金设备?",
            "lead_department": "市公安局",
            "site_types": ["砂金盗采点"],
            "default_severity": "key",
            "photo_required": True,
        },
        headers=office,
    )
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["text"] == "现场是否仍有采金设备？"
    assert edited.get_json()["lead_department"] == "市公安局"

    merged = client.post(
        f"{base}/merge", json={"items": [second["id"], third["id"]]}, headers=office
    )
    assert merged.status_code == 200, merged.get_json()
    body = merged.get_json()
    assert body["text"].endswith("？") and "，且" in body["text"]
    assert second["basis"] in body["basis"] and third["basis"] in body["basis"]

    added = client.post(
        f"{base}/items",
        json={
            "text": "是否设置警示标志？",
            "lead_department": "市自然资源局",
            "site_types": ["砂金盗采点"],
        },
        headers=office,
    )
    assert added.status_code == 201, added.get_json()
    new = added.get_json()
    v1 = client.get(f"/api/v1/campaigns/{CODE}/checklist", headers=office).get_json()["items"]
    used = [i["code"] for i in draft["items"] + v1]
    # A new code, after every code the draft or a published version ever used.
    assert new["code"].startswith(f"{draft['prefix']}-")
    assert int(new["code"].split("-")[1]) > max(int(c.split("-")[1]) for c in used)

    moved = client.post(f"{base}/items/{new['id']}/move", json={"position": 1}, headers=office)
    assert moved.status_code == 200
    assert moved.get_json()["items"][0]["id"] == new["id"]
    assert [i["position"] for i in moved.get_json()["items"]] == list(
        range(1, len(moved.get_json()["items"]) + 1)
    )

    deleted = client.delete(f"{base}/items/{first['id']}", headers=office)
    assert deleted.status_code == 204
    now = client.get(base, headers=office).get_json()
    assert first["id"] not in [i["id"] for i in now["items"]]
    assert third["id"] not in [i["id"] for i in now["items"]]
    assert len(now["items"]) == len(draft["items"]) - 1  # -1 merged, -1 deleted, +1 added


@pytest.mark.parametrize(
    "change",
    [
        {"text": "现场有采金设备"},  # a directive, not a question
        {"text": ""},
        {"site_types": []},
        {"site_types": ["菜市场"]},
        {"lead_department": " "},
        {"default_severity": "fatal"},
        {"text": "是否？" * 200},
    ],
)
def test_a_bad_edit_is_a_422_and_changes_nothing(client, office, change):
    draft = make_draft(client, office)
    item = draft["items"][0]
    url = f"/api/v1/checklist-drafts/{draft['id']}/items/{item['id']}"
    error = assert_error(client.patch(url, json=change, headers=office), 422, "validation_error")
    # Said in Chinese, not in the schema library's English.
    assert not re.search(r"[A-Za-z]+ [A-Za-z]+ [A-Za-z]+", error["message"]), error["message"]
    after = client.get(f"/api/v1/checklist-drafts/{draft['id']}", headers=office).get_json()
    assert after["items"][0] == item


# ---------------------------------------------------------------------------
# Publishing


def checklist(client, headers, etag=None):
    extra = {"If-None-Match": etag} if etag else {}
    return client.get(f"/api/v1/campaigns/{CODE}/checklist", headers={**headers, **extra})


def test_publish_makes_a_new_version_with_a_new_etag_and_a_sync_entry(
    app, client, office, inspector
):
    before = checklist(client, inspector)
    old_etag, old_items = before.headers["ETag"], before.get_json()["items"]
    cursor = client.get("/api/v1/sync", headers=inspector).get_json()["next_cursor"]

    draft = make_draft(client, office)
    diff = client.get(f"/api/v1/checklist-drafts/{draft['id']}/diff", headers=office).get_json()
    assert diff["base_version"] == 1
    published = publish(client, office, draft["id"], diff["base_version"])
    assert published.status_code == 201, published.get_json()
    assert published.get_json() == {"campaign": CODE, "version": 2, "draft": draft["id"]}

    after = checklist(client, inspector, old_etag)
    assert after.status_code == 200  # the phone's old copy is no longer current
    assert after.headers["ETag"] != old_etag
    assert after.get_json()["version"] == 2
    assert [i["text"] for i in after.get_json()["items"]] == [i["text"] for i in draft["items"]]
    assert checklist(client, inspector, after.headers["ETag"]).status_code == 304

    feed = client.get(f"/api/v1/sync?since={cursor}", headers=inspector).get_json()
    assert [(c["campaign"], c["version"]) for c in feed["changes"]["checklists"]] == [(CODE, 2)]

    # Version 1 is untouched: inspections made with it keep its items.
    from inspect_app.audit.models import AuditLog
    from inspect_app.campaigns.models import Campaign, ChecklistItem, ChecklistVersion
    from inspect_app.extensions import db

    with app.app_context():
        v1 = db.session.scalar(
            select(ChecklistVersion)
            .join(Campaign)
            .where(Campaign.code == CODE, ChecklistVersion.version == 1)
        )
        texts = db.session.scalars(
            select(ChecklistItem.text)
            .where(ChecklistItem.checklist_version_id == v1.id)
            .order_by(ChecklistItem.position)
        ).all()
        assert texts == [i["text"] for i in old_items]
        audit = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "checklist_publish")
        ).all()
        assert [(a.object_id, a.detail["base_version"]) for a in audit] == [(f"{CODE}.v2", 1)]

    # A published draft is a record: it takes no more edits or publishing.
    item = draft["items"][0]["id"]
    again = client.patch(
        f"/api/v1/checklist-drafts/{draft['id']}/items/{item}",
        json={"text": "是否？"},
        headers=office,
    )
    assert_error(again, 409, "conflict")
    assert_error(publish(client, office, draft["id"], 2), 409, "conflict")


def test_the_diff_names_items_added_changed_and_withdrawn(client, office):
    first = make_draft(client, office)
    assert publish(client, office, first["id"], 1).status_code == 201
    draft = make_draft(client, office)
    base = f"/api/v1/checklist-drafts/{draft['id']}"
    a, b = draft["items"][0], draft["items"][1]
    client.patch(
        f"{base}/items/{a['id']}",
        json={"text": "是否仍在盗采？", "photo_required": not a["photo_required"]},
        headers=office,
    )
    client.delete(f"{base}/items/{b['id']}", headers=office)
    new = client.post(
        f"{base}/items",
        json={
            "text": "是否设置警示标志？",
            "lead_department": "市自然资源局",
            "site_types": ["砂金盗采点"],
        },
        headers=office,
    ).get_json()
    diff = client.get(f"{base}/diff", headers=office).get_json()
    assert diff["base_version"] == 2
    assert [c["code"] for c in diff["changed"]] == [a["code"]]
    assert set(diff["changed"][0]["fields"]) == {"text", "photo_required"}
    assert diff["changed"][0]["before"]["text"] == a["text"]
    assert diff["changed"][0]["after"]["text"] == "是否仍在盗采？"
    assert [w["code"] for w in diff["withdrawn"]] == [b["code"]]
    assert [x["code"] for x in diff["added"]] == [new["code"]]
    assert diff["unchanged"] == len(draft["items"]) - 2


def test_publishing_against_a_version_not_seen_is_a_409(app, client, office):
    one, two = make_draft(client, office), make_draft(client, office)
    client.patch(
        f"/api/v1/checklist-drafts/{two['id']}/items/{two['items'][0]['id']}",
        json={"text": "是否仍在盗采？"},
        headers=office,
    )
    assert publish(client, office, one["id"], 1).status_code == 201
    # The second draft's diff was read against version 1; version 2 came out since.
    error = assert_error(publish(client, office, two["id"], 1), 409, "conflict")
    assert "第 2 版" in error["message"]
    assert_error(publish(client, office, two["id"], None), 409, "conflict")
    assert versions(app) == [1, 2]
    assert publish(client, office, two["id"], 2).status_code == 201
    assert versions(app) == [1, 2, 3]


def test_a_new_campaign_publishes_its_first_version(app, client, office, inspector):
    url = "/api/v1/checklist-drafts?campaign=placer-gold-2026&prefix=PX"
    draft = upload_text(client, office, NOTICE.read_text(encoding="utf-8"), url).get_json()
    assert {i["code"].split("-")[0] for i in draft["items"]} == {"PX"}
    diff = client.get(f"/api/v1/checklist-drafts/{draft['id']}/diff", headers=office).get_json()
    assert diff["base_version"] is None and len(diff["added"]) == len(draft["items"])
    assert publish(client, office, draft["id"], None).status_code == 201
    got = client.get("/api/v1/campaigns/placer-gold-2026/checklist", headers=inspector)
    assert got.status_code == 200 and got.get_json()["version"] == 1


# ---------------------------------------------------------------------------
# YAML: the existing file format, read by ``inspect-app checklists load``


def cli_env(database_url, tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith("INSPECT_")}
    return {
        **base,
        "INSPECT_DATABASE_URL": database_url,
        "INSPECT_MEDIA_DIR": str(tmp_path / "media"),
        "INSPECT_INSTANCE_DIR": str(tmp_path / "instance"),
    }


def test_yaml_downloads_round_trip_through_checklists_load(
    app, client, office, database_url, tmp_path
):
    draft = make_draft(client, office)
    base = f"/api/v1/checklist-drafts/{draft['id']}"
    client.patch(
        f"{base}/items/{draft['items'][0]['id']}", json={"text": "是否仍在盗采？"}, headers=office
    )

    drafted = client.get(f"{base}/checklist.yaml", headers=office)
    assert drafted.status_code == 200
    assert drafted.headers["Content-Disposition"].endswith('.yaml"')
    parsed = yaml.safe_load(drafted.get_data(as_text=True))
    assert parsed["items"][0]["text"] == "是否仍在盗采？"
    assert parsed["campaign"]["code"] == CODE

    assert publish(client, office, draft["id"], 1).status_code == 201
    current = client.get(f"/api/v1/campaigns/{CODE}/checklist.yaml", headers=office)
    assert current.status_code == 200
    assert current.headers["Content-Disposition"] == f'attachment; filename="{CODE}-v2.yaml"'
    # The draft's file and the version's file are the same checklist.
    assert yaml.safe_load(current.get_data(as_text=True))["items"] == parsed["items"]
    old = client.get(f"/api/v1/campaigns/{CODE}/checklist.yaml?version=1", headers=office)
    assert yaml.safe_load(old.get_data(as_text=True))["items"] != parsed["items"]
    assert_error(
        client.get(f"/api/v1/campaigns/{CODE}/checklist.yaml?version=9", headers=office),
        404,
        "not_found",
    )

    folder = tmp_path / "files"
    folder.mkdir()
    (folder / f"{CODE}.yaml").write_bytes(current.get_data())
    env = cli_env(database_url, tmp_path)
    same = subprocess.run(
        [str(BIN), "checklists", "load", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert same.returncode == 0, same.stderr
    assert versions(app) == [1, 2]  # the file is the published version: nothing new

    (folder / f"{CODE}.yaml").write_bytes(
        drafted.get_data().replace("是否仍在盗采？".encode(), "是否仍有人盗采？".encode())
    )
    changed = subprocess.run(
        [str(BIN), "checklists", "load", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert changed.returncode == 0, changed.stderr
    assert versions(app) == [1, 2, 3]


def test_the_spec_documents_the_draft_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    upload = paths["/api/v1/checklist-drafts"]["post"]
    assert set(upload["requestBody"]["content"]) == {"application/pdf", "text/plain"}
    assert {"403", "422"} <= set(upload["responses"])
    for path in (
        "/api/v1/checklist-drafts/{draft_id}",
        "/api/v1/checklist-drafts/{draft_id}/items/{item_id}",
        "/api/v1/checklist-drafts/{draft_id}/diff",
        "/api/v1/checklist-drafts/{draft_id}/publish",
        "/api/v1/campaigns/{code}/checklist.yaml",
    ):
        assert path in paths, path


def test_a_regenerated_notice_keeps_the_codes_of_the_items_it_still_asks(client, office):
    """Against the reviewed version 1, items are matched by question or notice sentence."""
    v1 = client.get(f"/api/v1/campaigns/{CODE}/checklist", headers=office).get_json()["items"]
    draft = make_draft(client, office)
    old = {i["code"]: i for i in v1}
    for item in draft["items"]:
        kept = old.get(item["code"])
        if kept is not None:
            assert kept["clause"] == item["clause"] or kept["text"] == item["text"], item
    numbers = [int(c.split("-")[1]) for c in old]
    fresh = [i for i in draft["items"] if i["code"] not in old]
    assert all(int(i["code"].split("-")[1]) > max(numbers) for i in fresh)
    diff = client.get(f"/api/v1/checklist-drafts/{draft['id']}/diff", headers=office).get_json()
    assert len(diff["added"]) == len(fresh)
    assert {w["code"] for w in diff["withdrawn"]} == set(old) - {i["code"] for i in draft["items"]}


def test_a_draft_from_the_current_version_changes_only_what_is_edited(app, client, office, lead):
    assert_error(
        client.post(f"/api/v1/campaigns/{CODE}/checklist-drafts", headers=lead), 403, "forbidden"
    )
    response = client.post(f"/api/v1/campaigns/{CODE}/checklist-drafts", headers=office)
    assert response.status_code == 201, response.get_json()
    draft = response.get_json()
    v1 = client.get(f"/api/v1/campaigns/{CODE}/checklist", headers=office).get_json()["items"]
    assert [i["code"] for i in draft["items"]] == [i["code"] for i in v1]
    diff = client.get(f"/api/v1/checklist-drafts/{draft['id']}/diff", headers=office).get_json()
    assert (diff["added"], diff["changed"], diff["withdrawn"]) == ([], [], [])
    # Nothing changed: publishing would make an identical version, so it makes none.
    assert_error(publish(client, office, draft["id"], 1), 409, "conflict")
    item = draft["items"][-1]
    client.patch(
        f"/api/v1/checklist-drafts/{draft['id']}/items/{item['id']}",
        json={"default_severity": "key" if item["default_severity"] == "general" else "general"},
        headers=office,
    )
    diff = client.get(f"/api/v1/checklist-drafts/{draft['id']}/diff", headers=office).get_json()
    assert [(c["code"], c["fields"]) for c in diff["changed"]] == [
        (item["code"], ["default_severity"])
    ]
    assert publish(client, office, draft["id"], 1).status_code == 201
    assert versions(app) == [1, 2]
    assert_error(
        client.post("/api/v1/campaigns/no-such/checklist-drafts", headers=office), 404, "not_found"
    )


# ---------------------------------------------------------------------------
# The dashboard's forms (the browser test drives them in tests/test_checklist_drafts_e2e.py)


def web_login(client, username):
    from tests.test_web import csrf_of

    token = csrf_of(client)
    response = client.post(
        "/dashboard/login",
        data={"csrf_token": token, "username": username, "password": "password123"},
    )
    assert response.status_code == 302
    return csrf_of(client, "/dashboard/")


def test_the_dashboard_drafts_are_the_office_s_alone(client, make_user):
    make_user("lead2", role="team_lead")
    web_login(client, "lead2")
    page = client.get("/dashboard/drafts")
    assert page.status_code == 403
    assert "专项办" in page.get_data(as_text=True)
    assert "检查清单</a>" not in client.get("/dashboard/").get_data(as_text=True)


def test_a_dashboard_upload_without_csrf_or_with_a_bad_pdf_stores_nothing(app, client, make_user):
    make_user("office2", role="office", districts=())
    token = web_login(client, "office2")
    import io

    forged = client.post(
        "/dashboard/drafts",
        data={"campaign": CODE, "notice": (io.BytesIO(b"%PDF-1.4 x"), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert forged.status_code == 400
    bad = client.post(
        "/dashboard/drafts",
        data={
            "csrf_token": token,
            "campaign": CODE,
            "notice": (io.BytesIO(b"%PDF-1.4 x"), "a.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'role="alert"' in html and "PDF" in html
    assert f'value="{CODE}"' in html  # the form keeps what was typed
    nothing = client.post(
        "/dashboard/drafts",
        data={"csrf_token": token, "campaign": CODE},
        content_type="multipart/form-data",
    )
    assert nothing.status_code == 422
    assert count_drafts(app) == 0
    pasted = client.post(
        "/dashboard/drafts",
        data={"csrf_token": token, "campaign": CODE, "text": NOTICE.read_text(encoding="utf-8")},
        content_type="multipart/form-data",
    )
    assert pasted.status_code == 302 and "/dashboard/drafts/" in pasted.headers["Location"]
    assert count_drafts(app) == 1
