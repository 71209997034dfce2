"""The inspect-app command as an operator runs it: real processes, real HTTP, real gunicorn."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "inspect-app"


def run(args, env, stdin=None, timeout=120):
    return subprocess.run(
        [str(BIN), *args], env=env, input=stdin, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def env(tmp_path, database_url):
    """Environment of an operator's shell, pointing at a fresh database of each backend."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("INSPECT_")}
    return {
        **base,
        "INSPECT_DATABASE_URL": database_url,
        "INSPECT_MEDIA_DIR": str(tmp_path / "media"),
        "INSPECT_INSTANCE_DIR": str(tmp_path / "instance"),
    }


def one_clear_line(result) -> str:
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_unreachable_database_stops_with_one_line(env):
    env["INSPECT_DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:9/nowhere"
    for command in (["serve"], ["init"]):
        assert "无法连接数据库" in one_clear_line(run(command, env))


def test_unwritable_media_folder_stops_with_one_line(env):
    env["INSPECT_MEDIA_DIR"] = "/etc/hostname/media"  # below a file: can never be created
    assert "INSPECT_MEDIA_DIR" in one_clear_line(run(["serve"], env))


def test_production_without_secret_stops_with_one_line(env):
    env["INSPECT_ENV"] = "production"
    assert "INSPECT_SECRET_KEY" in one_clear_line(run(["serve"], env))
    env["INSPECT_SECRET_KEY"] = "changeme"
    assert "INSPECT_SECRET_KEY" in one_clear_line(run(["serve"], env))


def test_serve_refuses_an_uninitialised_database(env, tmp_path):
    env["INSPECT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    assert "inspect-app init" in one_clear_line(run(["serve"], env))


def test_init_is_repeatable_and_reports_unchanged_checklists(env):
    first = run(["init"], env)
    assert first.returncode == 0, first.stderr
    second = run(["init"], env)
    assert second.returncode == 0, second.stderr
    assert "第 1 版" in second.stdout and "未变化" in second.stdout


def test_users_create_rejects_bad_input_clearly(env):
    assert run(["init"], env).returncode == 0
    result = run(
        [
            "users",
            "create",
            "x1",
            "--role",
            "inspector",
            "--district",
            "火星区",
            "--password-stdin",
        ],
        env,
        stdin="password123\n",
    )
    line = one_clear_line(result)
    assert "辖区：「火星区」不是本市的辖区" in line and "districts" not in line
    short = run(
        ["users", "create", "x2", "--role", "office", "--password-stdin"], env, stdin="abc\n"
    )
    line = one_clear_line(short)
    assert "密码：密码至少 8 位" in line and "password" not in line


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_created_user_logs_in_through_gunicorn(env):
    assert run(["init"], env).returncode == 0
    created = run(
        [
            "users",
            "create",
            "chen",
            "--role",
            "team_lead",
            "--district",
            "乌图美仁乡",
            "--display-name",
            "陈组长",
            "--password-stdin",
        ],
        env,
        stdin="s3cret-pass\n",
    )
    assert created.returncode == 0, created.stderr
    port = free_port()
    server = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        deadline = time.monotonic() + 30
        while True:
            try:
                status, spec = http("GET", f"{base}/openapi.json")
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert status == 200 and "/api/v1/auth/token" in spec["paths"]
        status, body = http(
            "POST", f"{base}/auth/token", {"username": "chen", "password": "s3cret-pass"}
        )
        assert status == 200
        assert body["user"]["display_name"] == "陈组长"
        assert body["user"]["districts"] == ["乌图美仁乡"]
        status, campaigns = http(
            "GET", f"{base}/campaigns", headers={"Authorization": f"Bearer {body['token']}"}
        )
        assert status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    assert "gunicorn" in output.lower() or "Booting worker" in output


def test_checklists_generate_prints_a_draft_yaml(env):
    notice = (
        Path(__file__).resolve().parents[1].parent / "shared" / "campaigns" / "placer-gold-2024.txt"
    )
    result = run(["checklists", "generate", str(notice), "--campaign", "placer-gold-2024"], env)
    assert result.returncode == 0, result.stderr
    assert "document_no: 格政办发〔2024〕69号" in result.stdout
    assert "code: PG-01" in result.stdout
    # The fit check heads the draft and is said on stderr.
    assert result.stdout.startswith("# 草稿共")
    assert result.stderr.startswith("草稿共")


@pytest.mark.parametrize("name", ["clean-energy-2024", "quinoa-subsidy-2024"])
def test_checklists_generate_tells_a_notice_that_is_no_field_campaign(env, name):
    notice = Path(__file__).resolve().parents[1].parent / "shared" / "notices-other" / f"{name}.txt"
    result = run(["checklists", "generate", str(notice), "--campaign", "other-2024"], env)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "不是现场检查的专项整治" in lines[0] and lines[0].count("。") == 1


def test_checklists_generate_names_file_and_line_of_a_malformed_notice(env, tmp_path):
    bad = tmp_path / "bad-notice.txt"
    bad.write_text("关于做好冬季安全工作的几点意见\n\n大家注意安全。\n", encoding="utf-8")
    line = one_clear_line(run(["checklists", "generate", str(bad), "--campaign", "x-2025"], env))
    assert "bad-notice.txt:" in line


def test_checklists_load_names_file_and_line_of_a_malformed_yaml(env, tmp_path):
    assert run(["init"], env).returncode == 0
    folder = tmp_path / "lists"
    folder.mkdir()
    source = Path(__file__).resolve().parents[1] / "checklists" / "recycling-2025.yaml"
    text = source.read_text(encoding="utf-8").replace(
        "default_severity: general", "default_severity: 特别严重", 1
    )
    (folder / "recycling-2025.yaml").write_text(text, encoding="utf-8")
    line = one_clear_line(run(["checklists", "load", str(folder)], env))
    assert "recycling-2025.yaml:" in line and "default_severity" in line or "特别严重" in line


def test_checklists_load_publishes_a_new_version_only_when_changed(env, tmp_path):
    assert run(["init"], env).returncode == 0
    folder = tmp_path / "lists"
    folder.mkdir()
    source = Path(__file__).resolve().parents[1] / "checklists" / "recycling-2025.yaml"
    text = source.read_text(encoding="utf-8")
    (folder / "recycling-2025.yaml").write_text(text, encoding="utf-8")
    same = run(["checklists", "load", str(folder)], env)
    assert "第 1 版" in same.stdout and "未变化" in same.stdout
    revised = text.replace("？\n", "（复核）？\n", 1)
    assert revised != text
    (folder / "recycling-2025.yaml").write_text(revised, encoding="utf-8")
    changed = run(["checklists", "load", str(folder)], env)
    assert changed.returncode == 0, changed.stderr
    assert "第 2 版" in changed.stdout and "已发布新版本" in changed.stdout
