"""The inspectors' field app at /app/ in Debian's Chromium, on a 390x844 phone (issue 16).

One gunicorn server with the demo data serves the module. Offline here means the server
is stopped (its port refuses connections): ``context.set_offline`` does not cover a
service worker's own requests, so it would prove nothing about the shell. The phone is
a persistent browser profile, so "restarting the browser" keeps what a real phone keeps
(IndexedDB, the service worker and its cache) and nothing else.

What is checked is what the inspector and the office would see: the screens after a
reload and a restart with no server, the outbox states, and after sync the API's and the
database's records (each once) and the photo files' hashes.
"""

import hashlib
import json
import re
import socket
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.support.a11y import assert_accessible, keyboard_walk
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_PASSWORD,
    DEVICES,
    PROJECT_ROOT,
    DemoSite,
)

PHOTOS = PROJECT_ROOT.parent / "shared" / "photos"
if not PHOTOS.is_dir():
    PHOTOS = Path("/work/shared/photos")
IMAGES = PROJECT_ROOT / "docs" / "images"
CAMPAIGN = "refined-oil-2025"
INSPECTOR = "insp_east"
# Near the centre of Golmud: the site list puts the nearest first.
WHERE = {"latitude": 36.4072, "longitude": 94.9283}
WAIT_MS = 90_000


@pytest.fixture(scope="module")
def demo(playwright, tmp_path_factory):
    site = DemoSite(tmp_path_factory.mktemp("field")).start()
    yield site
    if site.server.process and site.server.process.poll() is None:
        site.stop()


class Phone:
    """A phone's browser: a persistent profile that survives being closed and opened again."""

    def __init__(self, playwright, profile: Path, base: str):
        self.playwright, self.profile, self.base = playwright, profile, base
        self.context = None
        self.errors: list[str] = []
        self.api_answers: list[tuple[str, str, int, dict | None]] = []

    def open(self, path: str = "/app/"):
        self.context = self.playwright.chromium.launch_persistent_context(
            str(self.profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            locale="zh-CN",
            # Not Beijing: the app shows Beijing time whatever the phone's zone.
            timezone_id="Europe/Berlin",
            geolocation=WHERE,
            permissions=["geolocation"],
            **DEVICES["phone"],
        )
        self.context.set_default_timeout(30_000)
        page = self.context.pages[0] if self.context.pages else self.context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("response", self._note)
        page.goto(self.base + path)
        page.wait_for_selector("body[data-ready='1']")
        self.page = page
        return page

    def _note(self, response):
        if "/api/v1/" not in response.url or response.status < 400:
            return
        try:
            body = response.json()
        except Exception:  # noqa: BLE001 - a HEAD or an empty answer
            body = None
        self.api_answers.append((response.request.method, response.url, response.status, body))

    def close(self):
        if self.context:
            self.context.close()
            self.context = None

    def log_in(self, username: str = INSPECTOR):
        page = self.page
        page.fill("#username", username)
        page.fill("#password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("h1:has-text('选择专项行动')", timeout=WAIT_MS)
        # The shell is cached and the page controlled by the service worker before the
        # test takes the server away.
        page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=WAIT_MS)
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")

    def meta(self, key: str):
        """A value the app keeps in its meta store (the feed cursor, the last refresh)."""
        return self.page.evaluate(
            """async (key) => {
              const db = await new Promise((ok) => {
                const r = indexedDB.open('inspect-field'); r.onsuccess = () => ok(r.result);
              });
              return await new Promise((ok) => {
                const q = db.transaction('meta').objectStore('meta').get(key);
                q.onsuccess = () => ok(q.result ? q.result.value : null);
              });
            }""",
            key,
        )

    def records(self, store: str = "inspections") -> list[dict]:
        """What the app holds in IndexedDB (photo bytes left out)."""
        return self.page.evaluate(
            """async (store) => {
              const db = await new Promise((ok, no) => {
                const r = indexedDB.open('inspect-field');
                r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error);
              });
              return await new Promise((ok) => {
                const q = db.transaction(store).objectStore(store).getAll();
                q.onsuccess = () => ok(q.result.map((x) => ({...x, blob: undefined})));
              });
            }""",
            store,
        )


@pytest.fixture
def phone(playwright, demo, tmp_path):
    p = Phone(playwright, tmp_path / "profile", demo.base)
    yield p
    p.close()
    assert not p.errors, f"script errors in the app: {p.errors}"


def screen(page, name: str, full_page: bool = False) -> None:
    """The accessibility checks of the dashboard, then a screenshot into docs/images/."""
    assert_accessible(page)
    page.evaluate("window.scrollTo(0, 0)")
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / f"field-{name}.png"), full_page=full_page)
    walk = keyboard_walk(page)
    assert walk["unreachable"] == [] and walk["noIndicator"] == [], walk


def api(demo, method: str, path: str, body=None, username: str = INSPECTOR):
    """A call to the API as a demo user: (status, decoded body)."""
    if username not in demo._tokens:
        demo.api(username, "/api/v1/health")  # logs in, keeps the token
    token = demo._tokens[username]
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    request = urllib.request.Request(
        f"{demo.base}/api/v1{path}",
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def choose_campaign(page):
    page.click(f"a[href='#/c/{CAMPAIGN}']")
    page.wait_for_selector("h1:has-text('选择站点')")
    page.wait_for_selector("#site-list button[data-site]")


def answer(page, code: str, result: str):
    page.click(f"label[for='r-{code}-{result}']")
    if result == "fail":
        page.wait_for_selector(f"#{code}-description")


def item_codes(page) -> list[str]:
    return page.eval_on_selector_all("[data-item]", "els => els.map(e => e.dataset.item)")


def fail_with_photos(page, code: str, description: str, photos: list[str]):
    answer(page, code, "fail")
    page.fill(f"#{code}-description", description)
    page.set_input_files(f"#{code}-photos", [str(PHOTOS / name) for name in photos])
    page.wait_for_function(
        "([code, n]) => document.querySelectorAll(`[data-thumbs='${code}'] img`).length === n",
        arg=[code, len(photos)],
    )


def finish(page):
    page.click("#finish")
    page.wait_for_selector("h1:has-text('上传队列')")


def outbox_states(page) -> list[str]:
    page.goto(page.url.split("#")[0] + "#/outbox")
    page.wait_for_selector("h1:has-text('上传队列')")
    return page.eval_on_selector_all("#outbox li .state", "els => els.map(e => e.textContent)")


def wait_all_sent(page, n: int):
    page.goto(page.url.split("#")[0] + "#/outbox")
    page.wait_for_selector("h1:has-text('上传队列')")
    page.click("#sync-now")
    try:
        page.wait_for_function(
            "n => [...document.querySelectorAll('#outbox li .state')]"
            ".filter(e => e.textContent === '已上传').length === n",
            arg=n,
            timeout=WAIT_MS,
        )
    except Exception as error:  # noqa: BLE001 - say what the outbox shows instead
        raise AssertionError(f"not all sent: {page.inner_text('#main')}") from error


def sha_of(name: str) -> str:
    return hashlib.sha256((PHOTOS / name).read_bytes()).hexdigest()


def held_file(demo, sha: str) -> bytes:
    return (demo.root / "media" / "originals" / sha[:2] / sha[2:4] / sha).read_bytes()


# ---------------------------------------------------------------------------------------


def test_offline_inspections_survive_reload_and_restart_and_sync_once(phone, demo):
    page = phone.open()
    screen(page, "login")
    phone.log_in()
    screen(page, "campaigns")

    demo.server.stop()  # no signal from here on: the port refuses connections
    choose_campaign(page)
    page.wait_for_selector("#where:has-text('按距离排序')")
    metas = page.eval_on_selector_all("#site-list .meta", "els => els.map(e => e.textContent)")
    km = [float(m) for m in re.findall(r"约 ([\d.]+) 公里", " ".join(metas))]
    assert len(km) > 5 and km == sorted(km)  # nearest first
    screen(page, "sites")
    sites = page.eval_on_selector_all(
        "#site-list button[data-site]", "els => els.slice(0, 2).map(e => e.dataset.site)"
    )

    # Site 1: two failed items, one of them 重点 and 重大隐患; typed text survives a reload.
    page.click(f"button[data-site='{sites[0]}']")
    page.wait_for_selector("#inspection")
    codes = item_codes(page)
    # Beijing time, though the phone's clock is set to Berlin's zone.
    shown = re.search(r"开始于 (\d{4}/\d\d/\d\d \d\d:\d\d)", page.inner_text("main"))[1]
    beijing_now = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert abs(datetime.strptime(shown, "%Y/%m/%d %H:%M") - beijing_now) < timedelta(minutes=5)
    fail_with_photos(
        page, codes[0], "未取得《成品油零售经营批准证书》擅自销售柴油", ["landscape_1.jpg"]
    )
    page.select_option(f"#{codes[0]}-severity", "key")
    page.check(f"#{codes[0]}-major")
    page.fill(f"#{codes[0]}-requirement", "立即停止销售，限期办理证照")
    answer(page, codes[1], "pass")
    answer(page, codes[2], "na")
    page.wait_for_selector("#progress:has-text('已保存在手机上')")
    page.reload()
    page.wait_for_selector(f"#{codes[0]}-description")
    assert page.input_value(f"#{codes[0]}-description").startswith("未取得")
    assert page.input_value(f"#{codes[0]}-severity") == "key"
    assert page.is_checked(f"#{codes[0]}-major")
    assert page.is_checked(f"#r-{codes[1]}-pass") and page.is_checked(f"#r-{codes[2]}-na")
    fail_with_photos(page, codes[3], "消防器材过期未检", ["landscape_2.jpg", "portrait_6.jpg"])
    screen(page, "inspection")
    finish(page)

    # Site 2: one failed item, the rest passed.
    page.goto(f"{demo.base}/app/#/c/{CAMPAIGN}")
    page.wait_for_selector("#site-list button[data-site]")
    page.click(f"button[data-site='{sites[1]}']")
    page.wait_for_selector("#inspection")
    codes2 = item_codes(page)
    fail_with_photos(page, codes2[0], "油罐区未设置防雷接地", ["DSCN0010.jpg"])
    for code in codes2[1:]:
        answer(page, code, "pass")
    finish(page)

    # Site 3: found in the field, registered offline.
    page.goto(f"{demo.base}/app/#/c/{CAMPAIGN}/new")
    page.wait_for_selector("#new-site")
    page.wait_for_selector("#site-where:has-text('位置')")
    screen(page, "new-site")
    page.fill("#site-name", "昆仑路东侧流动加油点")
    page.select_option("#site-type", "加油站")
    page.select_option("#site-district", "东城区")
    page.fill("#site-address", "昆仑路与柴达木路交叉口东侧")
    page.click("#new-site button[type=submit]")
    page.wait_for_selector("#inspection")
    codes3 = item_codes(page)
    fail_with_photos(page, codes3[0], "无证经营，现场以油桶售油", ["DSCN0021.jpg"])
    finish(page)

    assert outbox_states(page) == ["待上传"] * 3
    screen(page, "outbox")
    page.reload()
    page.wait_for_selector("#outbox")
    assert outbox_states(page) == ["待上传"] * 3

    # The browser closed and opened again, still with no server: all still there.
    phone.close()
    page = phone.open("/app/#/outbox")
    page.wait_for_selector("#outbox li")
    assert outbox_states(page) == ["待上传"] * 3
    held = {r["uuid"]: r for r in phone.records()}
    assert len(held) == 3
    page.goto(f"{demo.base}/app/#/i/{next(iter(held))}")
    page.wait_for_selector("[data-thumbs] img")

    demo.server.start()
    wait_all_sent(page, 3)

    photos_by_finding = {}
    for record in held.values():
        status, stored = api(demo, "GET", f"/inspections/{record['uuid']}")
        assert status == 200, stored
        assert stored["status"] == "complete" and stored["missing_photos"] == []
        for f in stored["findings"]:
            photos_by_finding[f["id"]] = f["photos"]
    expected = {
        "landscape_1.jpg",
        "landscape_2.jpg",
        "portrait_6.jpg",
        "DSCN0010.jpg",
        "DSCN0021.jpg",
    }
    assert sorted(len(p) for p in photos_by_finding.values()) == [1, 1, 1, 2]
    assert {s for p in photos_by_finding.values() for s in p} == {sha_of(n) for n in expected}
    uuids = tuple(held)
    marks = ",".join("?" * len(uuids))
    assert demo.query(f"SELECT count(*) FROM inspections WHERE uuid IN ({marks})", *uuids) == [(3,)]
    finding_ids = tuple(photos_by_finding)
    marks = ",".join("?" * len(finding_ids))
    assert demo.query(f"SELECT count(*) FROM findings WHERE uuid IN ({marks})", *finding_ids) == [
        (4,)
    ]
    assert demo.query("SELECT count(*) FROM sites WHERE name = ?", "昆仑路东侧流动加油点") == [(1,)]
    for name in expected:
        sha = sha_of(name)
        assert demo.query("SELECT count(*) FROM photos WHERE sha256 = ?", sha) == [(1,)]
        assert hashlib.sha256(held_file(demo, sha)).hexdigest() == sha
    # Sent photos leave the phone's storage (days of photos offline fill a phone).
    assert phone.records("photos") == []
    # The site registered offline is the one the inspection names.
    new_site = demo.query("SELECT id FROM sites WHERE name = ?", "昆仑路东侧流动加油点")[0][0]
    sites_named = [api(demo, "GET", f"/inspections/{u}")[1]["site_id"] for u in uuids]
    assert new_site in sites_named


# ---------------------------------------------------------------------------------------


class CuttingProxy:
    """Forwards HTTP to the server, one request a connection; cuts the first photo PUT.

    The first ``PUT /api/v1/photos/…`` gets its head and ``keep`` bytes of its body
    through, then both sides are closed: the server holds a part, the phone hears
    nothing. Every request's method, path, Content-Range and body length is noted.
    """

    def __init__(self, upstream_port: int, keep: int):
        self.upstream, self.keep = ("127.0.0.1", upstream_port), keep
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.seen: list[dict] = []
        self.cut = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def close(self):
        self.listener.close()

    def _handle(self, client):
        with client:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = client.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])
            }
            length = int(headers.get("content-length", 0))
            while len(body) < length:
                chunk = client.recv(65536)
                if not chunk:
                    break
                body += chunk
            note = {
                "method": method,
                "path": path,
                "range": headers.get("content-range"),
                "bytes": len(body),
            }
            self.seen.append(note)
            kept = [x for x in lines[1:] if not x.lower().startswith("connection:")]
            out = ("\r\n".join([lines[0], *kept, "Connection: close"]) + "\r\n\r\n").encode(
                "latin-1"
            )
            with socket.create_connection(self.upstream) as server:
                if method == "PUT" and path.startswith("/api/v1/photos/") and not self.cut:
                    self.cut = True
                    note["cut_at"] = self.keep
                    server.sendall(out + body[: self.keep])
                    server.shutdown(socket.SHUT_WR)
                    server.settimeout(30)
                    try:
                        while server.recv(65536):
                            pass
                    except OSError:
                        pass
                    return  # the phone gets no answer at all
                server.sendall(out + body)
                while True:
                    chunk = server.recv(65536)
                    if not chunk:
                        break
                    client.sendall(chunk)


def test_cut_photo_upload_resumes_and_sends_only_the_rest(phone, demo):
    photo = "jolla.jpg"
    size = (PHOTOS / photo).stat().st_size
    proxy = CuttingProxy(demo.server.port, keep=size // 3)
    try:
        phone.base = f"http://127.0.0.1:{proxy.port}"
        page = phone.open()
        phone.log_in()
        choose_campaign(page)
        page.click("#site-list button[data-site] >> nth=2")
        page.wait_for_selector("#inspection")
        code = item_codes(page)[0]
        fail_with_photos(page, code, "加油机未经检定", [photo])
        finish(page)
        wait_all_sent(page, 1)
    finally:
        proxy.close()
    sha = sha_of(photo)
    puts = [s for s in proxy.seen if s["method"] == "PUT" and sha in s["path"]]
    assert puts[0]["range"] is None and puts[0]["cut_at"] == size // 3
    resumed = puts[-1]
    match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", resumed["range"] or "")
    assert match, puts
    first, last, total = map(int, match.groups())
    assert 0 < first <= size // 3 and last == size - 1 and total == size
    assert resumed["bytes"] == size - first  # only the rest went the second time
    heads = [s for s in proxy.seen if s["method"] == "HEAD" and sha in s["path"]]
    assert heads, "the app asked the server where to resume"
    assert hashlib.sha256(held_file(demo, sha)).hexdigest() == sha


# ---------------------------------------------------------------------------------------


def test_conflict_and_invalid_are_shown_in_the_servers_words_and_kept(phone, demo):
    page = phone.open()
    phone.log_in()

    def inspect(site_index: int, deadline: str | None = None) -> str:
        page.goto(f"{demo.base}/app/#/c/{CAMPAIGN}")
        page.wait_for_selector("#site-list button[data-site]")
        page.click(f"#site-list button[data-site] >> nth={site_index}")
        page.wait_for_selector("#inspection")
        code = item_codes(page)[0]
        fail_with_photos(page, code, "储油罐呼吸阀损坏", ["landscape_3.jpg"])
        if deadline:
            page.fill(f"#{code}-deadline", deadline)
        uuid = page.url.rsplit("/", 1)[1]
        finish(page)
        return uuid

    demo.server.stop()
    invalid = inspect(3, deadline="2101-01-01")  # beyond what the server takes
    conflicting = inspect(4)
    fine = inspect(5)
    demo.server.start()
    # Another phone already sent a final inspection under the same id, with other answers.
    record = next(r for r in phone.records() if r["uuid"] == conflicting)
    status, _ = api(
        demo,
        "PUT",
        f"/inspections/{conflicting}",
        {
            "campaign": CAMPAIGN,
            "checklist_version": record["checklist_version"],
            "site_id": int(record["site_key"][1:]),
            "started_at": record["started_at"],
            "answers": [{"item_code": next(iter(record["answers"])), "result": "pass"}],
            "final": True,
        },
    )
    assert status == 201
    wait_all_sent(page, 1)
    page.wait_for_function(
        "() => [...document.querySelectorAll('#outbox li .state')]"
        ".filter(e => e.textContent === '需处理').length === 2"
    )
    answers = {
        url.rsplit("/", 1)[1]: (status, body)
        for method, url, status, body in phone.api_answers
        if method == "PUT" and "/inspections/" in url
    }
    assert answers[invalid][0] == 422 and answers[conflicting][0] == 409

    def shown(uuid: str) -> str:
        return page.inner_text(f"#outbox li[data-record='{uuid}'] [data-message]")

    for uuid in (invalid, conflicting):
        assert answers[uuid][1]["error"]["message"] in shown(uuid)
    assert "已上传" in page.inner_text(f"#outbox li[data-record='{fine}']")
    screen(page, "outbox-errors")

    # Kept through a reload and a restart, with the server's words.
    phone.close()
    page = phone.open("/app/#/outbox")
    page.wait_for_selector("#outbox li")
    for uuid in (invalid, conflicting):
        assert answers[uuid][1]["error"]["message"] in shown(uuid)

    # The inspector corrects the deadline and sends it again: now it is taken.
    page.click(f"#outbox li[data-record='{invalid}'] button[data-edit]")
    page.wait_for_selector("#inspection")
    code = item_codes(page)[0]
    page.fill(f"#{code}-deadline", "2030-06-30")
    finish(page)
    wait_all_sent(page, 2)
    status, stored = api(demo, "GET", f"/inspections/{invalid}")
    assert status == 200 and stored["findings"][0]["deadline"] == "2030-06-30"
    phone.api_answers.clear()  # the 409/422 above were wanted


def test_rectification_reported_offline_reaches_pending_review(phone, demo):
    status, page_of = api(demo, "GET", "/findings?status=open&limit=50")
    assert status == 200
    finding = next(f for f in page_of["items"] if f["district"] in ("东城区", "昆仑经济技术开发区"))
    page = phone.open()
    phone.log_in()
    demo.server.stop()
    page.goto(f"{demo.base}/app/#/site/s{finding['site_id']}")
    page.wait_for_selector("h1:has-text('整改复查')")
    screen(page, "follow-up", full_page=True)
    page.click(f"a[href='#/f/{finding['id']}']")
    page.wait_for_selector("#report")
    page.fill("#report-note", "已补办证照，更换灭火器 4 具")
    page.set_input_files("#report-photos", [str(PHOTOS / "landscape_4.jpg")])
    page.wait_for_selector("#report-thumbs img")
    screen(page, "report")
    page.click("#report button[type=submit]")
    page.wait_for_selector("h1:has-text('上传队列')")
    page.reload()
    assert outbox_states(page) == ["待上传"]
    demo.server.start()
    wait_all_sent(page, 1)
    status, after = api(demo, "GET", f"/findings/{finding['id']}")
    assert status == 200 and after["status"] == "pending_review"
    last = after["events"][-1]
    assert last["action"] == "submit" and last["note"] == "已补办证照，更换灭火器 4 具"
    assert [p if isinstance(p, str) else p["sha256"] for p in last["photos"]] == [
        sha_of("landscape_4.jpg")
    ]

    # The team lead sends it back: after the next sync the inspector reads why, and may
    # report again.
    status, _ = api(
        demo,
        "POST",
        f"/findings/{finding['id']}/events",
        {"action": "reject", "note": "灭火器照片看不清型号，请补拍"},
        username="lead_city",
    )
    assert status == 200
    before = phone.meta("refreshed_at")
    wait_all_sent(page, 1)  # 立即同步 also fetches what changed: wait for that too
    for _ in range(300):  # wait_for_function takes a promise for true: poll instead
        if phone.meta("refreshed_at") != before:
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the app did not fetch what changed")
    page.goto(f"{demo.base}/app/#/site/s{finding['site_id']}")
    page.wait_for_selector("h1:has-text('整改复查')")
    assert "退回整改：灭火器照片看不清型号，请补拍" in page.inner_text("main")
    page.click(f"a[href='#/f/{finding['id']}']")
    page.wait_for_selector("#report button[type=submit]")
    assert page.input_value("#report-note") == ""


def test_a_phone_handed_on_keeps_the_last_users_work_under_their_name(phone, demo):
    page = phone.open()
    phone.log_in()
    demo.server.stop()
    choose_campaign(page)
    page.click("#site-list button[data-site] >> nth=6")
    page.wait_for_selector("#inspection")
    for code in item_codes(page):
        answer(page, code, "pass")
    uuid = page.url.rsplit("/", 1)[1]
    finish(page)
    page.click("#logout")
    page.wait_for_selector("#login", timeout=WAIT_MS)
    demo.server.start()

    page.fill("#username", "insp_west")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#login-error:has-text('未上传')")
    assert "张海涛" in page.inner_text("#login-error")
    assert api(demo, "GET", f"/inspections/{uuid}")[0] == 404

    phone.log_in(INSPECTOR)
    wait_all_sent(page, 1)
    status, stored = api(demo, "GET", f"/inspections/{uuid}")
    assert status == 200 and stored["inspector"] == INSPECTOR

    token = phone.meta("token")
    page.click("#logout")
    page.wait_for_selector("#login", timeout=WAIT_MS)  # without waiting for the server
    # The server forgets the login too, when the request gets through.
    for _ in range(100):
        request = urllib.request.Request(
            f"{demo.base}/api/v1/sync?since=0", headers={"Authorization": f"Bearer {token}"}
        )
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except urllib.error.HTTPError as refused:
            assert refused.code == 401
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the token still works after logging out")
    phone.log_in("insp_west")
    choose_campaign(page)
    districts = page.eval_on_selector_all("#site-list .meta", "els => els.map(e => e.textContent)")
    assert districts and all("西城区" in d or "陆港园区" in d for d in districts)
    assert phone.records() == []  # insp_east's records left with insp_east's data
