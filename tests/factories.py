"""Test data made straight in the database: a campaign of our own, inspections, findings.

The campaign here does not come from checklists/, so tests of the lifecycle and the
statistics do not move when a real checklist is edited. Every method opens the app
context, commits, and returns plain ids (no ORM object outlives its session).
"""

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from inspect_app.campaigns.models import Campaign, ChecklistItem, ChecklistVersion
from inspect_app.campaigns.services import publish_checklist
from inspect_app.extensions import db
from inspect_app.findings.models import Enforcement, Finding, RectificationEvent
from inspect_app.inspections.models import Inspection
from inspect_app.sites.models import Site
from inspect_app.sync.services import next_seq

CAMPAIGN = "test-oil-2025"
CAMPAIGN_NAME = "格尔木市成品油市场专项整治（测试）"
DOCUMENT_NO = "格政办〔2025〕99号"

# Items of the test checklist: code → lead department (None: the notice names none).
ITEMS = {
    "T-01": "商务局",
    "T-02": "应急管理局",
    "T-03": "市场监管局",
    "T-04": None,
}

FOUND_AT = datetime(2025, 5, 12, 1, 30, tzinfo=UTC)  # 09:30 in Golmud
FROM_ITEM = object()  # department: the item's lead department


class Factory:
    def __init__(self, app):
        self.app = app
        self._campaign_ids: dict[str, int] = {}

    def campaign(self, code: str = CAMPAIGN, name: str = CAMPAIGN_NAME) -> int:
        """The test campaign with its checklist (made once per database)."""
        if code in self._campaign_ids:
            return self._campaign_ids[code]
        data = {
            "campaign": {
                "code": code,
                "name": name,
                "document_no": DOCUMENT_NO,
                "issued_on": date(2025, 4, 1),
                "deadline_days": {"general": 7, "key": 30},
            },
            "items": [
                {
                    "code": item_code,
                    "section": "一、经营资质",
                    "text": f"检查项 {item_code}",
                    "basis": "《成品油市场管理办法》",
                    "clause": "第一条",
                    "lead_department": department,
                    "site_types": ["加油站", "油库"],
                    "default_severity": "general",
                }
                for item_code, department in ITEMS.items()
            ],
        }
        with self.app.app_context():
            publish_checklist(data, uuid.uuid4().hex)
            db.session.commit()
            campaign_id = db.session.scalar(select(Campaign.id).where(Campaign.code == code))
        self._campaign_ids[code] = campaign_id
        return campaign_id

    def site(self, name: str, district: str = "东城区", site_type: str = "加油站") -> int:
        with self.app.app_context():
            site = Site(name=name, district=district, site_type=site_type, sync_seq=next_seq())
            db.session.add(site)
            db.session.commit()
            return site.id

    def inspection(
        self, site_id: int, inspector_id: int, *, campaign: str = CAMPAIGN, final: bool = True
    ) -> int:
        campaign_id = self.campaign(campaign)
        with self.app.app_context():
            version_id = db.session.scalar(
                select(ChecklistVersion.id)
                .where(ChecklistVersion.campaign_id == campaign_id)
                .order_by(ChecklistVersion.version.desc())
                .limit(1)
            )
            inspection = Inspection(
                uuid=str(uuid.uuid4()),
                campaign_id=campaign_id,
                checklist_version_id=version_id,
                site_id=site_id,
                inspector_id=inspector_id,
                started_at=FOUND_AT,
                final=final,
                body_digest="0" * 64,
            )
            db.session.add(inspection)
            db.session.commit()
            return inspection.id

    def finding(
        self,
        inspection_id: int,
        *,
        status: str = "open",
        item: str = "T-01",
        severity: str = "general",
        deadline: date | None = None,
        department=FROM_ITEM,
        major_hazard: bool = False,
        fixed_on_spot: bool = False,
        photos: tuple[str, ...] = (),
    ) -> int:
        """A finding in ``status`` with the events that would have led there (by its inspector).

        ``department`` defaults to the item's lead department, as the inspection service does.
        """
        with self.app.app_context():
            inspection = db.session.get(Inspection, inspection_id)
            site = db.session.get(Site, inspection.site_id)
            item_row = db.session.scalar(
                select(ChecklistItem).where(
                    ChecklistItem.checklist_version_id == inspection.checklist_version_id,
                    ChecklistItem.code == item,
                )
            )
            finding = Finding(
                uuid=str(uuid.uuid4()),
                inspection_id=inspection.id,
                campaign_id=inspection.campaign_id,
                site_id=site.id,
                item_id=item_row.id,
                district=site.district,
                description=f"{site.name}：{item} 不合格",
                severity=severity,
                major_hazard=major_hazard,
                requirement="限期整改",
                deadline=deadline if deadline is not None else date(2025, 6, 12),
                fixed_on_spot=fixed_on_spot,
                status=status,
                responsible_department=(
                    item_row.lead_department if department is FROM_ITEM else department
                ),
                found_at=FOUND_AT,
                closed_at=FOUND_AT + timedelta(days=3) if status == "closed" else None,
                sync_seq=next_seq(),
            )
            finding.events.append(
                RectificationEvent(
                    action="record",
                    from_status=None,
                    to_status="open",
                    actor_id=inspection.inspector_id,
                    at=FOUND_AT,
                    note="现场检查发现",
                )
            )
            if status != "open":
                # How it got here is not what these tests look at; one event keeps the
                # history consistent with the status.
                finding.events.append(
                    RectificationEvent(
                        action="fix_on_spot" if fixed_on_spot else "start",
                        from_status="open",
                        to_status=status,
                        actor_id=inspection.inspector_id,
                        at=FOUND_AT + timedelta(hours=1),
                        photos=list(photos),
                    )
                )
            db.session.add(finding)
            db.session.commit()
            return finding.id

    def enforcement(
        self,
        site_id: int,
        actor_id: int,
        kind: str,
        *,
        fine_yuan: int | None = None,
        finding_id: int | None = None,
        campaign: str = CAMPAIGN,
    ) -> int:
        campaign_id = self.campaign(campaign)
        with self.app.app_context():
            row = Enforcement(
                campaign_id=campaign_id,
                site_id=site_id,
                finding_id=finding_id,
                kind=kind,
                fine_yuan=fine_yuan,
                actor_id=actor_id,
            )
            db.session.add(row)
            db.session.commit()
            return row.id

    def get_finding(self, finding_id: int) -> dict:
        """The stored finding's columns, and its events' (action, from, to, actor, note)."""
        with self.app.app_context():
            finding = db.session.get(Finding, finding_id)
            events = db.session.scalars(
                select(RectificationEvent)
                .where(RectificationEvent.finding_id == finding_id)
                .order_by(RectificationEvent.id)
            ).all()
            return {
                "status": finding.status,
                "deadline": finding.deadline,
                "version": finding.version,
                "sync_seq": finding.sync_seq,
                "updated_at": finding.updated_at,
                "closed_at": finding.closed_at,
                "events": [
                    {
                        "id": e.id,
                        "action": e.action,
                        "from_status": e.from_status,
                        "to_status": e.to_status,
                        "actor_id": e.actor_id,
                        "at": e.at,
                        "note": e.note,
                        "photos": list(e.photos or []),
                        "deadline": e.deadline,
                    }
                    for e in events
                ],
            }
