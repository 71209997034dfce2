"""The field app's 我的检查任务 and 提醒 (issue 17), in Debian's Chromium on a 390x844 phone.

A gunicorn server with the demo data; the office assigns sites and draws a 回头看 through
the API, ``inspect-app escalate`` makes the reminders, as on a real server. The phone
starts with the database an app of version 1 left (a draft and an unsent inspection, a
feed cursor past the assignments): the upgrade keeps both and still gets the
assignments. Offline is the server stopped, as in tests/test_field_app.py.
"""

import json
import sqlite3
import subprocess
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.a11y import assert_accessible, keyboard_walk
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_PASSWORD,
    DEVICES,
    DemoSite,
    shot,
)
from tests.support.server import BIN
from tests.test_field_app import CAMPAIGN, INSPECTOR, WAIT_MS, Phone, api, screen, wait_all_sent

STAGE = "巩固提升阶段"
BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def demo(playwright, tmp_path_factory):
    site = DemoSite(tmp_path_factory.mktemp("assignments")).start()
    yield site
    if site.server.process and site.server.process.poll() is None:
        site.stop()


@pytest.fixture
def phone(playwright, demo, tmp_path):
    p = Phone(playwright, tmp_path / "profile", demo.base)
    yield p
    p.close()
    assert not p.errors, f"script errors in the app: {p.errors}"


def today() -> date:
    return datetime.now(BEIJING).date()


def day(offset: int) -> str:
    return (today() + timedelta(days=offset)).isoformat()


def add_current_stage(demo) -> None:
    """The demo's campaign ended in 2025: a stage under way today, as a new notice adds."""
    (held,) = demo.query("SELECT stages FROM campaigns WHERE code = ?", CAMPAIGN)[0]
    stages = json.loads(held)
    stages.append({"name": STAGE, "starts_on": day(-10), "ends_on": day(40)})
    connection = sqlite3.connect(demo.database, timeout=10)
    try:
        connection.execute(
            "UPDATE campaigns SET stages = ? WHERE code = ?",
            (json.dumps(stages, ensure_ascii=False), CAMPAIGN),
        )
        connection.commit()
    finally:
        connection.close()


def assign(demo, site_id: int, user_id: int, due_on: str) -> dict:
    status, body = api(
        demo,
        "POST",
        "/assignments",
        {
            "campaign": CAMPAIGN,
            "stage": STAGE,
            "site_ids": [site_id],
            "inspector_ids": [user_id],
            "due_on": due_on,
        },
        username="office",
    )
    assert status == 201, body
    return body["items"][0]


def inspection_body(checklist, site, answers, findings=(), started=None) -> dict:
    now = datetime.now(BEIJING).replace(microsecond=0)
    return {
        "campaign": CAMPAIGN,
        "checklist_version": checklist["version"],
        "site_id": site["id"],
        "started_at": (started or now - timedelta(minutes=30)).isoformat(),
        "finished_at": now.isoformat(),
        "answers": answers,
        "findings": list(findings),
        "final": True,
    }


def escalate(demo) -> None:
    """One run of the escalation job, as cron runs it on the server."""
    result = subprocess.run(
        [str(BIN), "escalate"], env=demo.server.env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def record_finding_due(demo, checklist, site, item_code: str, description: str, due: str):
    """An inspection by the inspector with one finding due on ``due`` (a reminder to come)."""
    finding = {
        "id": str(uuid.uuid4()),
        "item_code": item_code,
        "description": description,
        "severity": "general",
        "requirement": "限期整改",
        "deadline": due,
        "photos": [],
    }
    body = inspection_body(checklist, site, [{"item_code": item_code, "result": "fail"}], [finding])
    status, answer = api(demo, "PUT", f"/inspections/{uuid.uuid4()}", body)
    assert status == 201, answer


@pytest.fixture(scope="module")
def world(demo):
    """Assignments of the inspector (one overdue, one due soon, one to be taken off, one
    with a draft on the phone, one sent from the phone's outbox), a 回头看 and two
    reminders."""
    add_current_stage(demo)
    me = demo.query("SELECT id FROM users WHERE username = ?", INSPECTOR)[0][0]
    lead = demo.query("SELECT id FROM users WHERE username = 'lead_city'")[0][0]
    status, checklist = api(demo, "GET", f"/campaigns/{CAMPAIGN}/checklist")
    assert status == 200
    types = {t for item in checklist["items"] for t in item.get("site_types") or []}
    sites = [
        {"id": row[0], "name": row[1], "site_type": row[2]}
        for row in demo.query(
            "SELECT id, name, site_type FROM sites WHERE deleted_at IS NULL "
            "AND district IN ('东城区', '昆仑经济技术开发区') ORDER BY id"
        )
        if row[2] in types
    ]
    assert len(sites) >= 6
    overdue, sent, soon, taken_off, drafted, other = sites[:6]
    made = {
        "overdue": assign(demo, overdue["id"], me, day(-3)),
        "sent": assign(demo, sent["id"], me, day(-1)),
        "soon": assign(demo, soon["id"], me, day(2)),
        "taken_off": assign(demo, taken_off["id"], me, day(10)),
        "drafted": assign(demo, drafted["id"], me, day(20)),
    }
    status, draw = api(
        demo,
        "POST",
        f"/campaigns/{CAMPAIGN}/revisit-draws",
        {
            "due_on": day(6),
            "districts": ["东城区"],
            "share_percent": 1,
            "seed": 17,
            "inspector_ids": [me],
        },
        username="office",
    )
    assert status == 201, draw
    (revisit,) = draw["assignments"]
    status, finding = api(demo, "GET", f"/findings/{revisit['finding_id']}", username="office")
    assert status == 200 and finding["status"] == "closed"

    def applies(item, site):
        return not item.get("site_types") or site["site_type"] in item["site_types"]

    code = next(i["code"] for i in checklist["items"] if applies(i, other))
    record_finding_due(demo, checklist, other, code, "灭火器压力不足", day(3))
    escalate(demo)
    record_finding_due(demo, checklist, other, code, "油罐区警示标志缺失", day(1))
    escalate(demo)
    return {
        "me": me,
        "lead": lead,
        "checklist": checklist,
        "sites": {
            "overdue": overdue,
            "sent": sent,
            "soon": soon,
            "taken_off": taken_off,
            "drafted": drafted,
        },
        "made": made,
        "revisit": revisit,
        "revisit_finding": finding,
        "applies": applies,
    }


V1_KEYS = {
    "meta": "key",
    "campaigns": "code",
    "checklists": "campaign",
    "sites": "key",
    "findings": "id",
    "inspections": "uuid",
    "reports": "uuid",
    "photos": "sha256",
}

MAKE_V1 = """async ({keys, rows}) => {
  const db = await new Promise((ok, no) => {
    const r = indexedDB.open('inspect-field', 1);
    r.onupgradeneeded = () => {
      for (const [name, keyPath] of Object.entries(keys)) {
        r.result.createObjectStore(name, {keyPath});
      }
    };
    r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error);
  });
  await new Promise((ok, no) => {
    const tx = db.transaction(Object.keys(rows), 'readwrite');
    for (const [name, list] of Object.entries(rows)) {
      for (const row of list) tx.objectStore(name).put(row);
    }
    tx.oncomplete = ok; tx.onerror = () => no(tx.error);
  });
  db.close();
  return true;
}"""


def leave_version_one_database(phone, demo, world) -> dict:
    """What a version 1 app left on the phone: a login, a cursor at the feed's head (it
    skipped the assignments), a draft of one assigned site and an unsent inspection of
    another. Returns the two records' uuids."""
    if INSPECTOR not in demo._tokens:
        demo.api(INSPECTOR, "/api/v1/health")
    token = demo._tokens[INSPECTOR]
    status, head = api(demo, "GET", "/sync")
    while head["has_more"]:
        status, head = api(demo, "GET", f"/sync?since={head['next_cursor']}")
    assert status == 200
    cursor = head["next_cursor"]
    user = {
        "id": world["me"],
        "username": INSPECTOR,
        "display_name": "检查员 张海涛",
        "role": "inspector",
        "districts": ["东城区", "昆仑经济技术开发区"],
    }
    checklist = world["checklist"]
    now = datetime.now(BEIJING).replace(microsecond=0)
    rows = {"meta": [], "inspections": []}
    rows["meta"] += [
        {"key": "token", "value": token},
        {"key": "user", "value": user},
        {"key": "cursor", "value": cursor},
    ]
    records = {}
    for name, state in (("drafted", "draft"), ("sent", "queued")):
        site = world["sites"][name]
        items = [i for i in checklist["items"] if world["applies"](i, site)]
        record = {
            "uuid": str(uuid.uuid4()),
            "campaign": CAMPAIGN,
            "checklist_version": checklist["version"],
            "site_key": f"s{site['id']}",
            "site_id": site["id"],
            "site_name": site["name"],
            "started_at": (now - timedelta(minutes=40)).isoformat(),
            "finished_at": now.isoformat() if state == "queued" else None,
            "location": None,
            "answers": {
                i["code"]: {"result": "pass"} for i in items[: 3 if state == "draft" else None]
            },
            "findings": {},
            "state": state,
            "created_at": now.isoformat(),
        }
        if state == "queued":
            record |= {"queued_at": now.isoformat(), "attempts": 0, "next_try": 0}
        rows["inspections"].append(record)
        records[name] = record["uuid"]
    # A page of the same origin that is not the app (which would open version 2).
    context = phone.playwright.chromium.launch_persistent_context(
        str(phone.profile),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        headless=True,
        **DEVICES["phone"],
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(f"{demo.base}/api/v1/health")
        assert page.evaluate(MAKE_V1, {"keys": V1_KEYS, "rows": rows})
    finally:
        context.close()
    return records


def looked_at(page, name: str) -> None:
    """The accessibility basics and a keyboard walk; a screenshot in build/screenshots/."""
    assert_accessible(page)
    shot(page, name)
    walk = keyboard_walk(page)
    assert walk["unreachable"] == [] and walk["noIndicator"] == [], walk


def tasks(page) -> list[dict]:
    return page.eval_on_selector_all(
        "#tasks li",
        """els => els.map(li => ({
          id: Number(li.querySelector('button').dataset.task),
          text: li.innerText,
          done: li.classList.contains('task-done'),
          overdue: !!li.querySelector('.overdue'),
          soon: !!li.querySelector('.due-soon'),
          revisit: !!li.querySelector('.tag-revisit'),
        }))""",
    )


def wait_for_tasks(page, check, what: str):
    for _ in range(600):
        if page.query_selector("#tasks") and check(tasks(page)):
            return tasks(page)
        page.wait_for_timeout(100)
    raise AssertionError(f"{what}: {page.inner_text('main')}")


def wait_refreshed(phone, before):
    for _ in range(600):
        if phone.meta("refreshed_at") != before:
            return
        phone.page.wait_for_timeout(100)
    raise AssertionError("the app did not fetch what changed")


def test_assignments_first_offline_revisit_and_taken_off(phone, demo, world):
    records = leave_version_one_database(phone, demo, world)
    made, revisit = world["made"], world["revisit"]
    page = phone.open()  # the new app: upgrades the database, then syncs
    page.wait_for_selector("h1:has-text('我的检查任务')", timeout=WAIT_MS)
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=WAIT_MS)

    # The unsent inspection went up after the upgrade: its assignment is done by what
    # the phone holds (the server does not send the assignment again for it).
    listed = wait_for_tasks(
        page, lambda ts: len(ts) == 6 and any(t["done"] for t in ts), "the sent one is not done"
    )
    expected = [
        made["overdue"]["id"],
        made["soon"]["id"],
        revisit["id"],
        made["taken_off"]["id"],
        made["drafted"]["id"],
        made["sent"]["id"],
    ]
    assert [t["id"] for t in listed] == expected  # open by due date, done last
    by_id = {t["id"]: t for t in listed}
    first = by_id[made["overdue"]["id"]]
    assert first["overdue"] and "已逾期 3 天" in first["text"]
    assert world["sites"]["overdue"]["name"] in first["text"]
    assert "成品油" in first["text"] and STAGE in first["text"] and day(-3) in first["text"]
    assert by_id[made["soon"]["id"]]["soon"] and "还剩 2 天" in by_id[made["soon"]["id"]]["text"]
    later = by_id[made["taken_off"]["id"]]
    assert not later["overdue"] and not later["soon"]
    shown_revisit = by_id[revisit["id"]]
    assert shown_revisit["revisit"] and "回头看" in shown_revisit["text"]
    assert f"复查问题：{world['revisit_finding']['description']}" in shown_revisit["text"]
    assert "草稿" in by_id[made["drafted"]["id"]]["text"]
    assert by_id[made["sent"]["id"]]["done"] and "已完成" in by_id[made["sent"]["id"]]["text"]
    assert page.inner_text("h2") == "其他检查：选择专项行动"
    assert page.query_selector(f"a[href='#/c/{CAMPAIGN}']")

    # The version 1 records survived the upgrade: the draft is still a draft, the other sent once.
    held = {r["uuid"]: r for r in phone.records()}
    assert held[records["drafted"]]["state"] == "draft"
    assert held[records["sent"]]["state"] == "done"
    status, stored = api(demo, "GET", f"/inspections/{records['sent']}")
    assert status == 200 and stored["site_id"] == world["sites"]["sent"]["id"]

    # Two reminders, unread: a badge; the list newest first, in Chinese; then read.
    page.wait_for_selector("#nav-reminders .badge:has-text('2')")
    screen(page, "assignments")
    page.click("#nav-reminders")
    page.wait_for_selector("h1:has-text('提醒')")
    items = page.eval_on_selector_all("#reminders li", "els => els.map(e => e.innerText)")
    assert len(items) == 2
    assert "临期提醒" in items[0] and "油罐区警示标志缺失" in items[0] and "还剩 1 天" in items[0]
    assert "灭火器压力不足" in items[1] and "还剩 3 天" in items[1]
    page.wait_for_function("!document.querySelector('#nav-reminders .badge')")
    looked_at(page, "field-reminders")

    # Tapping an assignment opens the checklist of that site for that campaign.
    page.click("a[href='#/']")
    page.wait_for_selector("#tasks")
    page.click(f"button[data-task='{made['soon']['id']}']")
    page.wait_for_selector("#inspection")
    assert page.inner_text("h1") == world["sites"]["soon"]["name"]
    site_type = world["sites"]["soon"]["site_type"]
    wanted = [
        i["code"]
        for i in world["checklist"]["items"]
        if world["applies"](i, world["sites"]["soon"])
    ]
    shown = page.eval_on_selector_all("[data-item]", "els => els.map(e => e.dataset.item)")
    assert shown == wanted and site_type in page.inner_text("main")
    opened = page.url.rsplit("/", 1)[1]
    record = next(r for r in phone.records() if r["uuid"] == opened)
    assert record["campaign"] == CAMPAIGN and record["site_id"] == world["sites"]["soon"]["id"]
    # The drafted one goes on with the draft the old app left.
    page.click("a[href='#/']")
    page.click(f"button[data-task='{made['drafted']['id']}']")
    page.wait_for_selector("#inspection")
    assert page.url.endswith(f"#/i/{records['drafted']}")

    # No signal: the list still shows, after a reload too; a 回头看 outcome queues.
    demo.server.stop()
    page.goto(f"{demo.base}/app/#/")
    page.wait_for_selector("#tasks")
    assert [t["id"] for t in tasks(page)] == expected
    page.click(f"button[data-task='{revisit['id']}']")
    page.wait_for_selector("h1:has-text('回头看复查')")
    assert world["revisit_finding"]["description"] in page.inner_text("main")
    # An inspector may say fixed; reopening is a team lead's (the server's rule).
    assert page.query_selector("#outcome-relapsed") is None
    assert "只有组长或专项办可以重新打开问题" in page.inner_text("main")
    looked_at(page, "field-revisit")
    page.click("label[for='outcome-fixed']")
    page.fill("#revisit-note", "现场复查：证照齐全，问题未反弹")
    page.click("#revisit button[type=submit]")
    page.wait_for_selector("h1:has-text('上传队列')")
    page.reload()
    page.wait_for_selector("#outbox")
    row = page.inner_text("#outbox li:has-text('回头看结果')")
    assert "待上传" in row and "整改到位" in row
    page.goto(f"{demo.base}/app/#/")
    page.wait_for_selector("#tasks")
    assert "待上传" in tasks(page)[2]["text"]

    demo.server.start()
    wait_all_sent(page, 2)  # the old app's inspection and the revisit (the rest are drafts)
    status, after = api(demo, "GET", f"/assignments/{revisit['id']}")
    assert status == 200 and after["outcome"] == "fixed" and after["done_at"]
    page.goto(f"{demo.base}/app/#/")
    listed = wait_for_tasks(
        page,
        lambda ts: any(t["id"] == revisit["id"] and t["done"] for t in ts),
        "the revisit is not done",
    )
    assert "整改到位" in next(t for t in listed if t["id"] == revisit["id"])["text"]

    # Taken off an assignment (the site given to the team lead): gone after the next sync.
    status, body = api(
        demo,
        "POST",
        "/assignments",
        {
            "campaign": CAMPAIGN,
            "stage": STAGE,
            "site_ids": [world["sites"]["taken_off"]["id"]],
            "inspector_ids": [world["lead"]],
        },
        username="office",
    )
    assert status == 201, body
    before = phone.meta("refreshed_at")
    page.goto(f"{demo.base}/app/#/outbox")
    page.click("#sync-now")
    wait_refreshed(phone, before)
    page.goto(f"{demo.base}/app/#/")
    listed = wait_for_tasks(page, lambda ts: len(ts) == 5, "the taken-off one is still listed")
    assert made["taken_off"]["id"] not in [t["id"] for t in listed]
    assert made["taken_off"]["id"] not in [a["id"] for a in phone.records("assignments")]


def test_a_team_lead_records_a_relapse_offline_and_the_finding_reopens(phone, demo, world):
    lead = "lead_city"
    status, draw = api(
        demo,
        "POST",
        f"/campaigns/{CAMPAIGN}/revisit-draws",
        {
            "due_on": day(4),
            "districts": ["西城区"],
            "share_percent": 1,
            "seed": 5,
            "inspector_ids": [world["lead"]],
        },
        username="office",
    )
    assert status == 201, draw
    revisit = draw["assignments"][0]
    page = phone.open()
    page.fill("#username", lead)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(f"#tasks button[data-task='{revisit['id']}']", timeout=WAIT_MS)
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=WAIT_MS)

    demo.server.stop()
    page.click(f"button[data-task='{revisit['id']}']")
    page.wait_for_selector("h1:has-text('回头看复查')")
    page.click("label[for='outcome-relapsed']")
    page.fill("#revisit-note", "储罐区再次出现无证售油")
    page.click("#revisit button[type=submit]")
    page.wait_for_selector("h1:has-text('上传队列')")
    assert "待上传" in page.inner_text("#outbox li:has-text('回头看结果')")

    demo.server.start()
    wait_all_sent(page, 1)
    status, finding = api(demo, "GET", f"/findings/{revisit['finding_id']}", username="office")
    assert status == 200 and finding["status"] == "rectifying"
    last = finding["events"][-1]
    assert last["action"] == "reopen" and "储罐区再次出现无证售油" in last["note"]
    assert last["actor"]["username"] == lead
    page.goto(f"{demo.base}/app/#/")
    listed = wait_for_tasks(
        page, lambda ts: any(t["id"] == revisit["id"] and t["done"] for t in ts), "not done"
    )
    assert "已完成：问题反弹" in next(t for t in listed if t["id"] == revisit["id"])["text"]
