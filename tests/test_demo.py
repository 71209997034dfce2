"""Demo data: realistic, consistent, and covering every lifecycle state."""

from sqlalchemy import func, select

from inspect_app.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo
from inspect_app.domain import DISTRICTS, FINDING_STATUSES, today_shanghai
from inspect_app.extensions import db
from inspect_app.findings.models import Finding, FindingPhoto, RectificationEvent
from inspect_app.photos.models import Photo
from inspect_app.sites.credit_code import is_valid
from inspect_app.sites.models import Site
from tests.conftest import PHOTOS


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
