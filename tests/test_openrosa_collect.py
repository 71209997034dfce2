"""A week of work from ODK Collect, over a link that cuts requests and answers part-way.

50 inspections with 200 photos (small real JPEGs, distinct bytes) from one Collect,
through a real server (gunicorn) behind a proxy that breaks every distinct request once:
half the body sent, or the answer cut after the server did the work. Collect splits each
submission at the server's X-OpenRosa-Accept-Content-Length and sends a failed one again
from its first post; ten of the inspections are first sent as drafts and then edited
(deprecatedID) into final ones. Everything arrives exactly once: each inspection, finding
and photo once, no photo still missing, every XML kept.
"""

import hashlib
import uuid

from sqlalchemy import create_engine, func, select

from inspect_app.audit.models import AuditLog
from inspect_app.auth.models import User
from inspect_app.config import TestConfig
from inspect_app.extensions import db
from inspect_app.findings.models import Finding, FindingPhoto
from inspect_app.inspections.models import Inspection
from inspect_app.openrosa import keys
from inspect_app.openrosa.submission_models import FormAttachment, FormSubmission
from inspect_app.photos.models import Photo
from tests.conftest import PHOTOS
from tests.support.collect import Collect, instance_xml, photo_set
from tests.support.flaky import FlakyProxy
from tests.support.server import Server

INSPECTIONS = 50
PHOTOS_PER_INSPECTION = 4
DRAFTS_FIRST = 10
# Two of the ~27 KB photos per post: every submission is split in two.
ACCEPT = 60_000


def test_a_week_of_collect_submissions_arrives_exactly_once(
    app, database_url, media_dir, tmp_path, make_user, make_site, checklist
):
    user_id = make_user("collector", "inspector", ["东城区"])
    with app.app_context():
        key = keys.issue(db.session.get(User, user_id), None)
        db.session.commit()
    sites = [make_site(name=f"国道沿线加油点{i}") for i in range(10)]
    jpegs = photo_set(INSPECTIONS * PHOTOS_PER_INSPECTION, PHOTOS / "jolla.jpg")
    plain = checklist["plain"]
    work = []
    for n in range(INSPECTIONS):
        mine = jpegs[n * PHOTOS_PER_INSPECTION : (n + 1) * PHOTOS_PER_INSPECTION]
        files = [(f"{1715480000000 + n * 10 + k}.jpg", data) for k, data in enumerate(mine)]
        findings = [
            {
                "id": str(uuid.uuid4()),
                "item": plain[k],
                "description": f"第{n}次检查问题{k}",
                "photos": [name for name, _ in files[2 * k : 2 * k + 2]],
            }
            for k in range(2)
        ]
        fields = {
            "answers": {plain[0]: "fail", plain[1]: "fail", plain[2]: "pass"},
            "findings": findings,
            "started_at": f"2025-05-{12 + n // 10:02d}T{8 + n % 10:02d}:00:00.000+08:00",
            "finished_at": f"2025-05-{12 + n // 10:02d}T{8 + n % 10:02d}:40:00.000+08:00",
        }
        first = str(uuid.uuid4())
        args = (checklist["campaign"], checklist["version"], sites[n % len(sites)])
        if n < DRAFTS_FIRST:
            draft = instance_xml(*args, instance_id=first, final=False, **fields)
            edit = instance_xml(
                *args, instance_id=str(uuid.uuid4()), deprecated_id=first, final=True, **fields
            )
            work.append((first, [draft, edit], files))
        else:
            work.append((first, [instance_xml(*args, instance_id=first, **fields)], files))

    server = Server(database_url, media_dir, tmp_path / "instance")
    server.env["INSPECT_SECRET_KEY"] = TestConfig.SECRET_KEY
    # The server announces its photo limit as the largest post (h18-forms' responses.py).
    server.env["INSPECT_MAX_PHOTO_BYTES"] = str(ACCEPT)
    with server, FlakyProxy(server.port) as proxy:
        collect = Collect(
            f"http://127.0.0.1:{proxy.port}/openrosa/key/{key}", fallback_accept=ACCEPT
        )
        for _, versions, files in work:
            for xml in versions:
                answer = collect.submit(xml, files)
        assert "检查记录已提交".encode() in answer

    assert collect.submissions == INSPECTIONS + DRAFTS_FIRST and collect.largest_split == 2
    assert proxy.cuts["request"] > 30 and proxy.cuts["response"] > 30
    assert collect.restarts >= proxy.cuts["request"] + proxy.cuts["response"] - 5
    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = lambda model, *where: connection.scalar(  # noqa: E731
            select(func.count()).select_from(model).where(*where)
        )
        assert count(Inspection) == INSPECTIONS
        assert count(Inspection, Inspection.final, Inspection.source == "collect") == INSPECTIONS
        assert count(Finding) == 2 * INSPECTIONS
        assert count(FindingPhoto) == len(jpegs)
        assert count(Photo) == len(jpegs)
        assert count(FormSubmission) == INSPECTIONS + DRAFTS_FIRST
        assert count(FormAttachment, FormAttachment.sha256.is_(None)) == 0
        named = set(connection.scalars(select(FindingPhoto.sha256)))
        assert named == {hashlib.sha256(p).hexdigest() for p in jpegs}
        actions = {
            action: n
            for action, n in connection.execute(
                select(AuditLog.action, func.count()).group_by(AuditLog.action)
            )
        }
        assert actions["inspection.create"] == INSPECTIONS
        assert actions["inspection.replace"] == DRAFTS_FIRST
        assert actions["photo.upload"] == len(jpegs)
        kept = {
            instance: xml
            for instance, xml in connection.execute(
                select(FormSubmission.instance_id, FormSubmission.xml)
            )
        }
    engine.dispose()
    sent = {instance: versions for instance, versions, _ in work}
    assert {kept[instance] for instance in sent} == {versions[0] for versions in sent.values()}
    originals = {p.name: p for p in (media_dir / "originals").rglob("*") if p.is_file()}
    assert set(originals) == named
