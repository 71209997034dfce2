"""App keys for ODK Collect and KoboCollect (issue 18): issued and revoked by the office in
the API, the dashboard and the command line; the settings QR code; the audit log."""

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from inspect_app.audit.models import AuditLog
from inspect_app.extensions import db
from inspect_app.openrosa import keys
from inspect_app.openrosa.models import AppKey
from tests.test_accounts import CSRF, dashboard_login

BIN = Path(sys.executable).parent / "inspect-app"
OR = {"X-OpenRosa-Version": "1.0"}
KEY_URL = re.compile(r"^http://localhost/openrosa/key/([A-Za-z0-9_-]{64})$")


def key_actions(app, user_id: int) -> list[tuple[str, int | None]]:
    with app.app_context():
        return [
            (row.action, row.user_id)
            for row in db.session.execute(
                select(AuditLog.action, AuditLog.user_id)
                .where(
                    AuditLog.object_type == "user",
                    AuditLog.object_id == str(user_id),
                    AuditLog.action.like("openrosa.%"),
                )
                .order_by(AuditLog.id)
            )
        ]


def works(client, token: str) -> int:
    return client.get(f"/openrosa/key/{token}/formList", headers=OR).status_code


def test_office_issues_a_key_shown_once_and_kept_as_a_hash(app, client, staff):
    office = staff["headers"]["office"]
    user_id = staff["ids"]["insp_east"]
    state = client.get(f"/api/v1/users/{user_id}/app-key", headers=office).get_json()
    assert state == {"issued": False, "active": False, "created_at": None, "revoked_at": None}
    answer = client.post(f"/api/v1/users/{user_id}/app-key", headers=office)
    assert answer.status_code == 201
    body = answer.get_json()
    token = KEY_URL.match(body["key_url"]).group(1)
    assert works(client, token) == 200
    with app.app_context():
        stored = db.session.scalars(select(AppKey.key_hash)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    # The settings QR code's text: Collect's settings JSON, zlib-deflated, base64-encoded.
    settings = keys.read_settings_payload(body["settings_qr"])
    assert settings["general"]["server_url"] == body["key_url"]
    assert settings["general"]["username"] == "insp_east"
    assert settings["admin"] == {}
    state = client.get(f"/api/v1/users/{user_id}/app-key", headers=office).get_json()
    assert state["issued"] and state["active"] and state["revoked_at"] is None
    # Never shown again.
    assert token not in client.get(f"/api/v1/users/{user_id}/app-key", headers=office).text
    assert key_actions(app, user_id) == [("openrosa.key_issued", staff["ids"]["office"])]


def test_a_new_key_ends_the_old_one_and_revoking_stops_it_at_once(app, client, staff):
    app.config["AUTH_CACHE_SECONDS"] = 60
    office = staff["headers"]["office"]
    user_id = staff["ids"]["insp_east"]
    first = KEY_URL.match(
        client.post(f"/api/v1/users/{user_id}/app-key", headers=office).get_json()["key_url"]
    ).group(1)
    second = KEY_URL.match(
        client.post(f"/api/v1/users/{user_id}/app-key", headers=office).get_json()["key_url"]
    ).group(1)
    assert works(client, first) == 403 and works(client, second) == 200
    assert client.delete(f"/api/v1/users/{user_id}/app-key", headers=office).status_code == 204
    assert works(client, second) == 403
    state = client.get(f"/api/v1/users/{user_id}/app-key", headers=office).get_json()
    assert state["issued"] and not state["active"] and state["revoked_at"]
    # Revoking again changes nothing and writes nothing.
    assert client.delete(f"/api/v1/users/{user_id}/app-key", headers=office).status_code == 204
    office_id = staff["ids"]["office"]
    assert key_actions(app, user_id) == [
        ("openrosa.key_issued", office_id),
        ("openrosa.key_issued", office_id),
        ("openrosa.key_revoked", office_id),
    ]


def test_a_key_grants_what_its_user_may_do(app, client, staff, make_site):
    """Only the office issues keys; a team lead sees whether an inspector of theirs has
    one; nobody learns of users they may not see."""
    headers = staff["headers"]
    east, west = staff["ids"]["insp_east"], staff["ids"]["insp_west"]
    for caller in ("lead", "insp_east", "insp_west"):
        assert (
            client.post(f"/api/v1/users/{east}/app-key", headers=headers[caller]).status_code == 403
        )
        assert (
            client.delete(f"/api/v1/users/{east}/app-key", headers=headers[caller]).status_code
            == 403
        )
    assert client.get(f"/api/v1/users/{east}/app-key", headers=headers["lead"]).status_code == 200
    assert client.get(f"/api/v1/users/{west}/app-key", headers=headers["lead"]).status_code == 404
    assert client.post("/api/v1/users/999999/app-key", headers=headers["office"]).status_code == 404
    # The key's sites are the user's: the west inspector's key lists no east site.
    make_site("东城加油站", "东城区", "加油站")
    answer = client.post(f"/api/v1/users/{west}/app-key", headers=headers["office"])
    token = KEY_URL.match(answer.get_json()["key_url"]).group(1)
    csv_text = client.get(
        f"/openrosa/key/{token}/forms/refined-oil-2025-v1/attachments/sites.csv", headers=OR
    ).text
    assert csv_text.strip() == "name,label,district,site_type"


def test_the_dashboard_user_page_issues_a_key_with_its_qr_code(app, client, staff):
    office = app.test_client()
    assert dashboard_login(office, "office").status_code == 302
    user_id = staff["ids"]["insp_east"]
    page = office.get(f"/dashboard/users/{user_id}").text
    assert "尚未签发采集密钥" in page
    answer = office.post(
        f"/dashboard/users/{user_id}/app-key", data={"csrf_token": CSRF.search(page).group(1)}
    )
    assert answer.status_code == 200
    shown = answer.text
    key_url = re.search(r'<code id="key-url">([^<]+)</code>', shown).group(1)
    token = KEY_URL.match(key_url).group(1)
    assert works(client, token) == 200
    # The QR code drawn is the one of Collect's settings for this key and user.
    payload = keys.settings_payload(keys.collect_settings("http://localhost", token, "insp_east"))
    assert keys.qr_svg(payload) in shown
    assert keys.read_settings_payload(payload)["general"] == {
        "server_url": key_url,
        "username": "insp_east",
        "form_update_mode": "match_exactly",
    }
    assert "扫码配置" in shown
    # Back on the user page: the key is live, not shown; revoking stops it.
    page = office.get(f"/dashboard/users/{user_id}").text
    assert "采集密钥有效" in page and token not in page
    revoked = office.post(
        f"/dashboard/users/{user_id}/app-key/revoke",
        data={"csrf_token": CSRF.search(page).group(1)},
        follow_redirects=True,
    )
    assert "已吊销采集密钥" in revoked.text and "已于" in revoked.text
    assert works(client, token) == 403
    assert [a for a, _ in key_actions(app, user_id)] == [
        "openrosa.key_issued",
        "openrosa.key_revoked",
    ]
    # A team lead sees the state, without the buttons.
    lead = app.test_client()
    dashboard_login(lead, "lead")
    page = lead.get(f"/dashboard/users/{user_id}").text
    assert "采集密钥已于" in page and "签发采集密钥" not in page
    refused = lead.post(
        f"/dashboard/users/{user_id}/app-key", data={"csrf_token": CSRF.search(page).group(1)}
    )
    assert refused.status_code == 403


def test_the_command_line_prints_the_server_url_to_enter(
    app, client, staff, database_url, tmp_path
):
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSPECT_")}
    env.update(INSPECT_DATABASE_URL=database_url, INSPECT_INSTANCE_DIR=str(tmp_path / "i"))

    def cli(*args, **extra):
        return subprocess.run(
            [str(BIN), "users", "app-key", *args],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
        )

    refused = cli("insp_east")
    assert refused.returncode == 1 and "INSPECT_PUBLIC_URL" in refused.stderr
    assert "Traceback" not in refused.stderr
    issued = cli("insp_east", INSPECT_PUBLIC_URL="https://inspect.example.org/")
    assert issued.returncode == 0, issued.stderr
    key_url = issued.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"https://inspect\.example\.org/openrosa/key/([A-Za-z0-9_-]{64})", key_url)
    token = match.group(1)
    assert works(client, token) == 200
    other = cli("insp_east", "--server", "http://10.0.0.5:8000")
    assert other.stdout.strip().splitlines()[-1].startswith("http://10.0.0.5:8000/openrosa/key/")
    assert works(client, token) == 403  # the new key replaced it
    revoked = cli("insp_east", "--revoke")
    assert revoked.returncode == 0 and "已吊销" in revoked.stdout
    unknown = cli("nobody", "--server", "http://x")
    assert unknown.returncode == 1 and "nobody" in unknown.stderr
    user_id = staff["ids"]["insp_east"]
    assert key_actions(app, user_id) == [
        ("openrosa.key_issued", None),
        ("openrosa.key_issued", None),
        ("openrosa.key_revoked", None),
    ]


def test_settings_payload_round_trips_collects_format():
    """base64(zlib(JSON)), as ODK's own example makes a settings code."""
    import base64
    import json
    import zlib

    settings = keys.collect_settings("https://inspect.example.org", "t" * 64, "张三")
    payload = keys.settings_payload(settings)
    assert json.loads(zlib.decompress(base64.b64decode(payload))) == settings
    assert (
        settings["general"]["server_url"] == "https://inspect.example.org/openrosa/key/" + "t" * 64
    )
    assert keys.qr_svg(payload).startswith("<svg")
