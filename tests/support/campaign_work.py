"""A test campaign with stages and departments, for assignments, 回头看 and escalation."""

from sqlalchemy import update

from inspect_app.campaigns.models import Campaign
from inspect_app.extensions import db
from tests.factories import CAMPAIGN

STAGES = [
    {"name": "排查摸底阶段", "starts_on": "2025-05-01", "ends_on": "2025-06-30"},
    {"name": "集中整治阶段", "starts_on": "2025-07-01", "ends_on": "2025-09-30"},
]
DEPARTMENTS = [
    {"name": "市商务局", "duties": "成品油经营"},
    {"name": "市应急管理局", "duties": "安全"},
]


def staged_campaign(app, factory) -> str:
    """The factory's campaign, given two stages and two departments; its code."""
    campaign_id = factory.campaign()
    with app.app_context():
        db.session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(stages=STAGES, departments=DEPARTMENTS)
        )
        db.session.commit()
    return CAMPAIGN
