"""GET /campaigns/{code}/stats: numbers that agree with a count done by hand.

The data set (today frozen at 2025-06-20 in Golmud; default deadline 2025-06-12):

    site  district    type    #   item/department   status          deadline  notes
    A     东城区       加油站   1   T-01 商务局         open            06-12     overdue
                              2   T-02 应急管理局     closed
                              3   T-03 市场监管局     rectifying      06-30
                              4   T-01 商务局         voided                    not counted
                              5   T-04 (none)         pending_review  06-19     overdue,key,重大隐患
    B     东城区       油库     6   T-02 应急管理局     closed                    立行立改
                              7   T-02 应急管理局     open            06-20     due today: on time
    C     西城区       加油站   8   T-01 商务局         closed                    key
                              9   T-03 市场监管局     open            06-01     overdue
                             10   T-03 市场监管局     closed
    D     郭勒木德镇   加油站   inspected, nothing found
    E     西城区       油库     never inspected

A is inspected twice (one site all the same). Enforcement: 取缔 twice on C, fines of
3,000 (finding 1) and 5,000 (finding 9), 10,000 on the voided finding 4 (not
counted), 移交公安机关 on A, 责令限期整改 on B.
"""

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from inspect_app import domain
from inspect_app.extensions import db
from tests.factories import CAMPAIGN, CAMPAIGN_NAME, DOCUMENT_NO, Factory
from tests.helpers import assert_error, sql_statements

DISTRICT_ORDER = [
    "东城区",
    "西城区",
    "察尔汗行政委员会",
    "昆仑经济技术开发区",
    "陆港园区",
    "郭勒木德镇",
    "唐古拉山镇",
    "乌图美仁乡",
    "大格勒乡",
]


class FrozenClock(datetime):
    @classmethod
    def now(cls, tz=None):
        instant = datetime(2025, 6, 20, 2, 0, tzinfo=UTC)  # 10:00 on 20 June in Golmud
        return instant.astimezone(tz) if tz else instant.replace(tzinfo=None)


def row(key, sites, findings, rectified, open_, overdue, rate, label=None):
    return {
        "key": key,
        "label": label or key,
        "sites_inspected": sites,
        "findings": findings,
        "rectified": rectified,
        "open": open_,
        "overdue": overdue,
        "rectification_rate": rate,
    }


@pytest.fixture
def factory(app):
    return Factory(app)


@pytest.fixture
def data(factory, make_user, login, monkeypatch):
    monkeypatch.setattr(domain, "datetime", FrozenClock)
    office = make_user("office", "office", [])
    make_user("lead", "team_lead", ["东城区", "西城区"])
    make_user("east", "inspector", ["东城区"])
    a = factory.site("A 站", "东城区", "加油站")
    b = factory.site("B 库", "东城区", "油库")
    c = factory.site("C 站", "西城区", "加油站")
    d = factory.site("D 站", "郭勒木德镇", "加油站")
    factory.site("E 库", "西城区", "油库")
    ia, ia2, ib, ic = (factory.inspection(s, office) for s in (a, a, b, c))
    factory.inspection(d, office)
    f = factory.finding
    found = {
        1: f(ia, item="T-01", status="open", deadline=date(2025, 6, 12)),
        2: f(ia, item="T-02", status="closed"),
        3: f(ia2, item="T-03", status="rectifying", deadline=date(2025, 6, 30)),
        4: f(ia2, item="T-01", status="voided"),
        5: f(
            ia,
            item="T-04",
            status="pending_review",
            deadline=date(2025, 6, 19),
            severity="key",
            major_hazard=True,
        ),
        6: f(ib, item="T-02", status="closed", fixed_on_spot=True),
        7: f(ib, item="T-02", status="open", deadline=date(2025, 6, 20)),
        8: f(ic, item="T-01", status="closed", severity="key"),
        9: f(ic, item="T-03", status="open", deadline=date(2025, 6, 1)),
        10: f(ic, item="T-03", status="closed"),
    }
    factory.enforcement(c, office, "ban")
    factory.enforcement(c, office, "ban")
    factory.enforcement(a, office, "fine", fine_yuan=3000, finding_id=found[1])
    factory.enforcement(c, office, "fine", fine_yuan=5000, finding_id=found[9])
    factory.enforcement(a, office, "fine", fine_yuan=10000, finding_id=found[4])
    factory.enforcement(a, office, "refer_police")
    factory.enforcement(b, office, "order_rectify")
    return {"office": login("office"), "lead": login("lead"), "east": login("east")}


def stats(client, headers, group_by=None, campaign=CAMPAIGN):
    query = f"?group_by={group_by}" if group_by else ""
    response = client.get(f"/api/v1/campaigns/{campaign}/stats{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


EAST = row("东城区", 2, 6, 2, 4, 2, 0.3333)
WEST = row("西城区", 1, 3, 2, 1, 1, 0.6667)
GOLMUD_TOWN = row("郭勒木德镇", 1, 0, 0, 0, 0, None)


def test_by_district_for_the_office(client, data):
    answer = stats(client, data["office"], "district")
    assert answer["campaign"] == CAMPAIGN and answer["group_by"] == "district"
    assert (answer["campaign_name"], answer["document_no"]) == (CAMPAIGN_NAME, DOCUMENT_NO)
    assert answer["as_of"] == "2025-06-20"
    rows = {r["key"]: r for r in answer["rows"]}
    assert [r["key"] for r in answer["rows"]] == DISTRICT_ORDER  # every district, in order
    assert rows["东城区"] == EAST
    assert rows["西城区"] == WEST
    assert rows["郭勒木德镇"] == GOLMUD_TOWN
    assert rows["大格勒乡"] == row("大格勒乡", 0, 0, 0, 0, 0, None)
    assert answer["total"] == row(None, 4, 9, 4, 5, 3, 0.4444, label="合计")


def test_by_department(client, data):
    answer = stats(client, data["office"], "department")
    assert answer["rows"] == [
        row("市场监管局", None, 3, 1, 2, 1, 0.3333),
        row("应急管理局", None, 3, 2, 1, 0, 0.6667),
        row("商务局", None, 2, 1, 1, 1, 0.5),
        row(None, None, 1, 0, 1, 1, 0.0, label="未明确责任单位"),
    ]
    assert answer["total"] == row(None, 4, 9, 4, 5, 3, 0.4444, label="合计")


def test_by_site_type_and_severity(client, data):
    by_type = stats(client, data["office"], "site_type")
    assert by_type["rows"] == [
        row("加油站", 3, 7, 3, 4, 3, 0.4286),
        row("油库", 1, 2, 1, 1, 0, 0.5),
    ]
    by_severity = stats(client, data["office"], "severity")
    assert by_severity["rows"] == [
        row("general", None, 7, 3, 4, 2, 0.4286, label="一般"),
        row("key", None, 2, 1, 1, 1, 0.5, label="重点"),
    ]
    assert by_type["total"] == by_severity["total"] == row(None, 4, 9, 4, 5, 3, 0.4444, "合计")


def test_figures_of_the_campaign(client, data):
    figures = stats(client, data["office"])["figures"]
    assert figures == {
        "sites_inspected": 4,
        "findings": 9,
        "key_findings": 2,
        "major_hazards": 1,
        "rectified": 4,
        "rectification_rate": 0.4444,
        "open": 5,
        "overdue": 3,
        "sites_closed_down": 1,  # C, banned twice
        "cases_filed": 3,  # two fines (not the voided finding's) and one referral
        "fines_yuan": 8000,
        "enforcements": {
            "order_rectify": 1,
            "suspend": 0,
            "ban": 2,
            "fine": 2,
            "revoke_licence": 0,
            "refer_police": 1,
            "refer_judicial": 0,
            "blacklist": 0,
        },
    }


def test_team_lead_and_inspector_see_their_districts_only(client, data):
    lead = stats(client, data["lead"], "district")
    assert lead["rows"] == [EAST, WEST]
    assert lead["districts"] == ["东城区", "西城区"]
    assert lead["total"] == row(None, 3, 9, 4, 5, 3, 0.4444, label="合计")
    east = stats(client, data["east"], "district")
    assert east["rows"] == [EAST]
    assert east["total"] == {**EAST, "key": None, "label": "合计"}
    figures = east["figures"]
    assert (figures["sites_closed_down"], figures["cases_filed"], figures["fines_yuan"]) == (
        0,
        2,
        3000,
    )
    by_department = stats(client, data["east"], "department")
    assert sum(r["findings"] for r in by_department["rows"]) == 6


def test_a_site_fixed_on_the_spot_counts_as_rectified(client, factory, make_user, login):
    """Through the phone's PUT: 立行立改 with a photo is closed at once and rectified."""
    make_user("insp", "inspector", ["陆港园区"])
    headers = login("insp")
    factory.campaign()
    site = factory.site("陆港加油点", "陆港园区")
    body = {
        "campaign": CAMPAIGN,
        "checklist_version": 1,
        "site_id": site,
        "started_at": "2025-05-12T09:30:00+08:00",
        "answers": [{"item_code": "T-01", "result": "fail"}],
        "findings": [
            {
                "id": str(uuid.uuid4()),
                "item_code": "T-01",
                "description": "灭火器过期",
                "fixed_on_spot": True,
                "photos": ["d" * 64],
            }
        ],
        "final": True,
    }
    response = client.put(f"/api/v1/inspections/{uuid.uuid4()}", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    answer = stats(client, headers, "district")
    assert answer["total"] == row(None, 1, 1, 1, 0, 0, 1.0, label="合计")


def test_grouped_queries_not_a_loop(app, client, factory, data):
    """The number of SQL statements does not grow with the number of findings."""

    def statements_for(group_by):
        with sql_statements(app) as seen:
            stats(client, data["office"], group_by)
        return [s for s in seen if "findings" in s.lower() or "enforcements" in s.lower()]

    before = {g: statements_for(g) for g in ("district", "department", "site_type", "severity")}
    site = factory.site("F 站", "东城区")
    with app.app_context():
        from inspect_app.auth.models import User

        office_id = db.session.scalar(select(User.id).where(User.username == "office"))
    inspection = factory.inspection(site, office_id)
    for _ in range(15):
        factory.finding(inspection)
    for group_by, statements in before.items():
        assert len(statements) == 1, statements  # rows, sites and measures: one statement
        assert len(statements_for(group_by)) == 1


@pytest.mark.parametrize(
    "url, status, code",
    [
        (f"/api/v1/campaigns/{CAMPAIGN}/stats?group_by=inspector", 422, "validation_error"),
        ("/api/v1/campaigns/no-such-campaign/stats", 404, "not_found"),
    ],
)
def test_bad_stats_requests(client, data, url, status, code):
    assert_error(client.get(url, headers=data["office"]), status, code)


def test_stats_need_a_login(client, factory):
    factory.campaign()
    assert_error(client.get(f"/api/v1/campaigns/{CAMPAIGN}/stats"), 401, "unauthorized")
