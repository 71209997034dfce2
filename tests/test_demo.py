"""Demo data: realistic, consistent, and covering every lifecycle state."""

import hashlib
import os
import re
import subprocess
import sys
from datetime import date, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from inspect_app.campaigns.models import Campaign, ChecklistItem
from inspect_app.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo
from inspect_app.domain import DISTRICTS, FINDING_STATUSES, today_shanghai
from inspect_app.extensions import db
from inspect_app.findings.models import Enforcement, Finding, FindingPhoto, RectificationEvent
from inspect_app.inspections.models import Answer, Inspection
from inspect_app.photos.models import Photo, PhotoHolder
from inspect_app.sites.credit_code import is_valid
from inspect_app.sites.models import Site
from tests.conftest import PHOTOS

BIN = Path(sys.executable).parent / "inspect-app"


def test_demo_covers_every_state_and_stays_consistent(app, client, media_dir):
    with app.app_context():
        counts = seed_demo(inspections=80, seed=7, photos_dir=PHOTOS, media_dir=media_dir)
        db.session.commit()
        assert counts["inspections"] == 80 and counts["findings"] > 20

        statuses = dict(
            db.session.execute(select(Finding.status, func.count()).group_by(Finding.status)).all()
        )
        assert set(statuses) == set(FINDING_STATUSES)
        overdue = db.session.scalar(
            select(func.count()).where(
                Finding.status.in_(["open", "rectifying", "pending_review"]),
                Finding.deadline < today_shanghai(),
            )
        )
        assert overdue > 0

        # The status column never disagrees with the last event of the history.
        last_event = (
            select(RectificationEvent.to_status)
            .where(RectificationEvent.finding_id == Finding.id)
            .order_by(RectificationEvent.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        mismatched = db.session.scalar(
            select(func.count()).select_from(Finding).where(Finding.status != last_event)
        )
        assert mismatched == 0

        # Findings carry the sample photos, stored like uploads (the damaged one refused).
        named = db.session.scalars(select(FindingPhoto.sha256).distinct()).all()
        stored = db.session.scalars(select(Photo.sha256)).all()
        assert named and set(named) <= set(stored)
        assert all(any((media_dir / "report").rglob(f"{sha}.jpg")) for sha in stored)

        sites = db.session.scalars(select(Site)).all()
        assert {s.district for s in sites} <= set(DISTRICTS)
        assert all(is_valid(s.credit_code) for s in sites if s.credit_code)
        assert {"加油站", "砂金盗采点", "再生资源回收站点"} <= {s.site_type for s in sites}

    for username, *_ in DEMO_USERS:
        response = client.post(
            "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 200, username


# ---------------------------------------------------------------------------
# Does it look real? Each property is read back from the rows, as a reader would see them.

BEIJING = ZoneInfo("Asia/Shanghai")
# The sample photos that are no pictures of a place: EXIF orientation test images with
# painted digits, and the damaged file.
TEST_PATTERNS = sorted(PHOTOS.glob("landscape_*.jpg")) + sorted(PHOTOS.glob("portrait_*.jpg"))
TEST_PATTERNS.append(PHOTOS / "corrupted.jpg")
# Words that belong to one kind of place: a finding may use one only if its item does.
TELLTALES = ["消防器材", "危险化学品经营许可证", "采金", "加油站", "砂石", "回收", "油罐", "运油"]
QUESTION_WORDS = re.compile(r"是否|能否|有无")


def _bigrams(text: str) -> set[str]:
    cjk = re.sub(r"[^\u4e00-\u9fff]", "", QUESTION_WORDS.sub("", text))
    return {cjk[i : i + 2] for i in range(len(cjk) - 1)}


@pytest.fixture
def seeded(app, media_dir):
    with app.app_context():
        seed_demo(inspections=120, seed=11, photos_dir=PHOTOS, media_dir=media_dir)
        db.session.commit()
        yield
        db.session.remove()


def test_every_finding_is_its_item_failed_at_a_site_it_applies_to(app, seeded):
    rows = db.session.execute(
        select(Finding.description, ChecklistItem, Site.site_type)
        .join(ChecklistItem, ChecklistItem.id == Finding.item_id)
        .join(Inspection, Inspection.id == Finding.inspection_id)
        .join(Site, Site.id == Finding.site_id)
        .where(ChecklistItem.checklist_version_id == Inspection.checklist_version_id)
    ).all()
    assert len(rows) == db.session.scalar(select(func.count()).select_from(Finding)) > 50
    for description, item, site_type in rows:
        assert site_type in item.site_types, (item.code, site_type, description)
        # The finding says what its item asks, turned into what was found.
        words = _bigrams(item.text)
        shared = words & _bigrams(description)
        assert len(shared) >= 0.6 * len(words), (item.text, description)
        for word in TELLTALES:
            if word in description:
                assert word in item.text + item.basis + site_type, (word, item.code, description)
    # Answers too are only given to items of the site's type.
    wrong = db.session.execute(
        select(ChecklistItem.code, Site.site_type)
        .select_from(Answer)
        .join(ChecklistItem, ChecklistItem.id == Answer.item_id)
        .join(Inspection, Inspection.id == Answer.inspection_id)
        .join(Site, Site.id == Inspection.site_id)
    ).all()
    items = {i.code: i.site_types for i in db.session.scalars(select(ChecklistItem))}
    assert [(code, t) for code, t in wrong if t not in items[code]] == []


def _stage_days(campaign) -> set:
    days = set()
    for stage in campaign.stages:
        day, end = date.fromisoformat(stage["starts_on"]), date.fromisoformat(stage["ends_on"])
        while day <= end:
            days.add(day)
            day += timedelta(days=1)
    return days


def test_every_event_is_in_its_campaigns_stages_in_working_hours(app, seeded):
    campaigns = {c.id: c for c in db.session.scalars(select(Campaign))}
    stage_days = {cid: _stage_days(c) for cid, c in campaigns.items()}
    moments = []  # (campaign id, what, aware datetime)
    for i in db.session.scalars(select(Inspection)):
        moments += [
            (i.campaign_id, "检查开始", i.started_at),
            (i.campaign_id, "检查结束", i.finished_at),
        ]
    for f in db.session.scalars(select(Finding)):
        moments.append((f.campaign_id, "发现", f.found_at))
        moments += [(f.campaign_id, e.action, e.at) for e in f.events]
    for e in db.session.scalars(select(Enforcement)):
        moments.append((e.campaign_id, e.kind, e.at))
    assert len(moments) > 500
    outside = []
    for campaign_id, what, moment in moments:
        local = moment.astimezone(BEIJING)
        in_hours = time(8, 0) <= local.time() <= time(19, 0)
        if not (in_hours and local.date() in stage_days[campaign_id]):
            outside.append((campaigns[campaign_id].code, what, local.isoformat()))
    assert outside == []
    # The 2024 campaigns ended in 2024.
    years = db.session.execute(select(Campaign.code, Inspection.started_at).join(Inspection)).all()
    assert {at.astimezone(BEIJING).year for code, at in years if code.endswith("2024")} == {2024}


def test_findings_are_recorded_at_the_inspection_not_the_sync(app, seeded):
    started = dict(db.session.execute(select(Inspection.id, Inspection.started_at)).all())
    for f in db.session.scalars(select(Finding)):
        first = f.events[0]
        assert first.action == "record" and first.at == f.found_at == started[f.inspection_id]


def test_photos_are_real_photos_of_places_like_the_site(app, seeded):
    patterns = {hashlib.sha256(p.read_bytes()).hexdigest() for p in TEST_PATTERNS}
    named = db.session.execute(
        select(FindingPhoto.sha256, Site.site_type, Site.district)
        .join(Finding, Finding.id == FindingPhoto.finding_id)
        .join(Site, Site.id == Finding.site_id)
    ).all()
    place = {
        finding_id: (site_type, district)
        for finding_id, site_type, district in db.session.execute(
            select(Finding.id, Site.site_type, Site.district).join(Site)
        )
    }
    for event in db.session.scalars(select(RectificationEvent)):
        named += [(sha, *place[event.finding_id]) for sha in event.photos]
    assert named
    assert not {sha for sha, *_ in named} & patterns
    # Pictures of open ground or snow are not shown for a fuel station or a chemical plant.
    assert {t for _, t, d in named if d != "唐古拉山镇"} <= {
        "砂石场",
        "洗砂场",
        "砂金盗采点",
        "建筑工地",
        "再生资源回收站点",
    }
    stored = db.session.scalars(select(Photo)).all()
    assert {p.sha256 for p in stored} >= {sha for sha, *_ in named}
    # Stored through the upload path: the uploader holds each photo.
    holders = set(db.session.scalars(select(PhotoHolder.sha256)))
    assert holders == {p.sha256 for p in stored}
    # No caption dates a photo years before its inspection (the samples' EXIF says 2008).
    first = db.session.scalar(select(func.min(Inspection.started_at)))
    assert all(p.taken_at is None or p.taken_at >= first for p in stored)


ROAD_MARKER = re.compile(r"(G\d+)线K(\d{3,4})\+(\d{3})")


def test_sites_are_placed_and_staffed_as_such_places_are(app, seeded):
    sites = db.session.scalars(select(Site)).all()
    assert len({s.name for s in sites}) == len(sites)
    for site in sites:
        assert site.address.startswith(f"青海省格尔木市{site.district}"), site.address
        # A national road is named with its kilometre marker, never run into a number.
        for road in re.findall(r"G\d+", site.address):
            assert ROAD_MARKER.search(site.address), site.address
            assert road in {"G109", "G215", "G315", "G3011"}, site.address
        if site.site_type in ("砂金盗采点", "流动加油车"):
            # Nobody holds a licence for an illegal spot or a tanker selling fuel by the road.
            assert not site.licences and site.credit_code is None, site.name
        if site.site_type == "砂金盗采点":
            assert site.contact_name == "" and site.contact_phone == "", site.name
        if "站长" in site.contact_name:
            assert site.site_type == "加油站", (site.name, site.contact_name)
        if site.name.startswith(("中国石油", "中国石化")):
            # A branded station stands on a city street or on a national road.
            assert ROAD_MARKER.search(site.address) or re.search(r"路\d+号$", site.address)
            assert site.name.endswith("加油站")
    for road, km in (m.groups()[:2] for s in sites for m in ROAD_MARKER.finditer(s.address)):
        assert (
            {"G109": (2600, 3400), "G315": (950, 1250), "G215": (600, 720)}[road][0]
            <= int(km)
            <= {"G109": (2600, 3400), "G315": (950, 1250), "G215": (600, 720)}[road][1]
        )


def test_demo_runs_twice_with_if_empty(database_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSPECT_")}
    env |= {
        "INSPECT_DATABASE_URL": database_url,
        "INSPECT_MEDIA_DIR": str(tmp_path / "media"),
        "INSPECT_INSTANCE_DIR": str(tmp_path / "instance"),
    }
    for expected in ("lead_city", "演示数据已存在"):
        result = subprocess.run(
            [str(BIN), "demo", "--if-empty", "--inspections", "40"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert expected in result.stdout
