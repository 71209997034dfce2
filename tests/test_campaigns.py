"""GET /campaigns and the checklist with ETag / 304, as the phone caches it."""

import re

import pytest

from tests.helpers import assert_error

CAMPAIGNS = {
    "hazchem-2025": "格政办发〔2025〕28号",
    "recycling-2025": "格政办发〔2025〕29号",
    "refined-oil-2025": "格政办发〔2025〕30号",
    "sand-gravel-2024": "格政办发〔2024〕63号",
    "placer-gold-2024": "格政办发〔2024〕69号",
}


@pytest.fixture
def headers(make_user, login):
    make_user("east", "inspector", ["东城区"])
    return login("east")


def test_campaigns_list_the_five_notices(client, headers):
    response = client.get("/api/v1/campaigns", headers=headers)
    assert response.status_code == 200
    items = {c["code"]: c for c in response.get_json()["items"]}
    assert {code: c["document_no"] for code, c in items.items()} == CAMPAIGNS
    oil = items["refined-oil-2025"]
    assert oil["name"] == "2025年格尔木市成品油市场专项整治行动工作方案"
    assert oil["issued_on"] == "2025-04-25"
    assert oil["checklist_version"] == 1
    # The phone fills in a finding's deadline offline from these (checklist YAML's).
    assert oil["deadline_days"] == {"general": 7, "key": 30}
    assert oil["stages"] and all(s["starts_on"] <= s["ends_on"] for s in oil["stages"])


def test_checklist_has_contract_fields(client, headers):
    response = client.get("/api/v1/campaigns/refined-oil-2025/checklist", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["campaign"] == "refined-oil-2025" and body["version"] == 1
    item = body["items"][0]
    assert set(item) == {
        "code",
        "section",
        "text",
        "basis",
        "clause",
        "clause_label",
        "lead_department",
        "site_types",
        "answer_type",
        "default_severity",
        "photo_required",
    }
    assert item["code"] == "RO-01"
    assert len(body["items"]) >= 10


def test_checklist_cites_each_clause_readably(client, headers):
    response = client.get("/api/v1/campaigns/hazchem-2025/checklist", headers=headers)
    items = {item["code"]: item for item in response.get_json()["items"]}
    # the key stays as the checklist file has it; the label is what an inspector reads
    assert items["HC-68"]["clause"] == "二（三）14三是"
    assert items["HC-68"]["clause_label"] == "二（三）第14项 三是"
    run_together = re.compile(r"[〇一二三四五六七八九十]\d|\d[〇一二三四五六七八九十]")
    labels = [item["clause_label"] for item in items.values()]
    assert not [label for label in labels if run_together.search(label)]


def test_checklist_etag_gives_304_and_a_new_version_a_new_etag(app, client, headers):
    url = "/api/v1/campaigns/refined-oil-2025/checklist"
    first = client.get(url, headers=headers)
    etag = first.headers["ETag"]
    cached = client.get(url, headers={**headers, "If-None-Match": etag})
    assert cached.status_code == 304 and cached.data == b""
    assert cached.headers["ETag"] == etag

    from inspect_app.campaigns.checklist_file import checklist_digest, read_checklist
    from inspect_app.campaigns.services import publish_checklist
    from inspect_app.extensions import db
    from tests.conftest import PROJECT_ROOT

    data = read_checklist(PROJECT_ROOT / "checklists" / "refined-oil-2025.yaml")
    data["items"][0]["text"] = data["items"][0]["text"] + "（修订）"
    with app.app_context():
        result = publish_checklist(data, checklist_digest(data))
        db.session.commit()
    assert result.published and result.version == 2
    fresh = client.get(url, headers={**headers, "If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.headers["ETag"] != etag
    assert fresh.get_json()["version"] == 2
    assert fresh.get_json()["items"][0]["text"].endswith("（修订）")


def test_copy_cached_before_the_clause_label_is_sent_again(app, client, headers):
    from sqlalchemy import select

    from inspect_app.campaigns.models import Campaign, ChecklistVersion
    from inspect_app.extensions import db

    with app.app_context():
        digest = db.session.scalar(
            select(ChecklistVersion.digest)
            .join(Campaign)
            .where(Campaign.code == "refined-oil-2025")
        )
    old_etag = f'"refined-oil-2025.v1.{digest[:16]}"'  # as served before clause_label
    url = "/api/v1/campaigns/refined-oil-2025/checklist"
    response = client.get(url, headers={**headers, "If-None-Match": old_etag})
    assert response.status_code == 200
    assert response.get_json()["items"][0]["clause_label"]


def test_unknown_campaign_checklist_is_404(client, headers):
    assert_error(client.get("/api/v1/campaigns/nope/checklist", headers=headers), 404, "not_found")


def test_loading_unchanged_files_publishes_nothing(app):
    from inspect_app.campaigns.services import load_checklists
    from inspect_app.extensions import db

    with app.app_context():
        results = load_checklists(app.config["CHECKLISTS_DIR"])
        db.session.commit()
    assert len(results) == 5
    assert not any(r.published for r in results)
