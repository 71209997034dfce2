"""The site registry from the office's spreadsheets (issue 17): dry run, import, re-import,
merge and retire, seen by phones through the sync feed.

The files are made here with openpyxl as departments make them: a title merged over the
table, Chinese headers in their own order, 经纬度 merged over 经度 and 纬度, a district
merged down over its sites, extra columns, empty rows, full-width digits.
"""

import csv
import io
import uuid

import openpyxl
import pytest
from sqlalchemy import func, select

from inspect_app.audit.models import AuditLog
from inspect_app.extensions import db
from inspect_app.findings.models import Finding
from inspect_app.inspections.models import Inspection
from inspect_app.sites.credit_code import check_character
from inspect_app.sites.models import Site

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def code(n: int) -> str:
    first17 = f"91632801MA{n:07d}"
    return first17 + check_character(first17)


def wrong_check(n: int) -> str:
    good = code(n)
    return good[:17] + ("1" if good[17] != "1" else "2")


def xlsx(sheet_rows: list[list], merges: tuple[str, ...] = ()) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in sheet_rows:
        sheet.append(row)
    for cells in merges:
        sheet.merge_cells(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# Headers in the order of a 商务局 ledger, not ours; 经纬度 over two sub-columns (E:F),
# an extra 备注 column, a title merged across the top.
TITLE = ["格尔木市成品油零售网点台账（2025 年 5 月）"]
HEADER = [
    "序号",
    "所属区域",
    "统一社会信用代码",
    "名称",
    "经纬度",
    None,
    "类型",
    "地址",
    "联系电话",
    "负责人",
    "备注",
]
SUBHEADER = [None, None, None, None, "纬度", "经度", None, None, None, None, None]
LEDGER_MERGES = (
    "A1:K1",
    "E2:F2",
    "A2:A3",
    "B2:B3",
    "C2:C3",
    "D2:D3",
    "G2:G3",
    "H2:H3",
    "I2:I3",
    "J2:J3",
    "K2:K3",
)


def ledger_row(n, name, district="东城区", credit=None, lat=36.41, lon=94.91, address=None):
    return [
        n,
        district,
        credit if credit is not None else code(n),
        name,
        lat,
        lon,
        "加油站",
        address if address is not None else f"格尔木市昆仑路 {n} 号",
        13909790000 + n,  # a phone stored as a number
        "张三",
        "已核实",
    ]


def ledger(rows: list[list], merges: tuple[str, ...] = ()) -> bytes:
    return xlsx([TITLE, HEADER, SUBHEADER, *rows], LEDGER_MERGES + merges)


@pytest.fixture
def people(make_user, login):
    make_user("office", "office", [])
    make_user("lead", "team_lead", ["东城区"])
    make_user("insp", "inspector", ["东城区"])
    return {name: login(name) for name in ("office", "lead", "insp")}


def upload(client, headers, data: bytes, *, dry_run: bool, name="台账.xlsx"):
    return client.post(
        f"/api/v1/sites/import?dry_run={'true' if dry_run else 'false'}",
        data={"file": (io.BytesIO(data), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


def site_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Site))


def by_row(report) -> dict[int, dict]:
    return {r["row"]: r for r in report["rows"]}


def test_dry_run_reports_each_row_and_creates_nothing_then_the_import_does(app, client, people):
    rows = [
        ledger_row(1, "格尔木市昆仑路加油站"),
        [None] * 11,  # an empty row between blocks
        ledger_row(2, "格尔木市江源路加油站", credit=wrong_check(2)),
        ledger_row(3, "格尔木市柴达木路加油站", district="火星区"),
        ledger_row(4, "格尔木市盐湖路加油站", lat=39.9, lon=116.4),  # Beijing
        ledger_row(5, "格尔木市河西加油站", credit=code(1)),  # the code of row 1 again
        # Full-width digits in the code, the name and the coordinates; lon before lat.
        ledger_row(
            6,
            "格尔木市１２号加油站",
            credit=code(6).translate(FULL_WIDTH),
            lat="９４.９２",
            lon="３６.４２",
        ),
    ]
    data = ledger(rows)
    before = site_count(app)
    dry = upload(client, people["office"], data, dry_run=True)
    assert dry.status_code == 200, dry.get_json()
    report = dry.get_json()
    assert site_count(app) == before  # nothing written
    rows_by_number = by_row(report)
    assert sorted(rows_by_number) == [4, 6, 7, 8, 9, 10]  # title, 2 header rows, the empty one
    assert rows_by_number[4]["action"] == "create"
    assert "校验位" in rows_by_number[6]["reasons"][0]
    assert "未知的所属区域「火星区」" in rows_by_number[7]["reasons"][0]
    assert "不在格尔木市范围内" in rows_by_number[8]["reasons"][0]
    assert rows_by_number[9]["reasons"] == ["与第 4 行的统一社会信用代码相同"]
    assert rows_by_number[10]["action"] == "create"
    assert rows_by_number[10]["name"] == "格尔木市12号加油站"
    assert rows_by_number[10]["credit_code"] == code(6)
    assert report["summary"] == {
        "rows": 6,
        "create": 2,
        "update": 0,
        "unchanged": 0,
        "refused": 4,
    }
    assert report["ignored_columns"] == ["序号", "备注"]

    done = upload(client, people["office"], data, dry_run=False)
    assert done.status_code == 200
    assert done.get_json()["summary"] == report["summary"]
    assert site_count(app) == before + 2
    with app.app_context():
        site = db.session.scalar(select(Site).where(Site.credit_code == code(6)))
        assert (site.name, site.lat, site.lon) == ("格尔木市12号加油站", 36.42, 94.92)
        assert site.contact_phone == "13909790006"
        assert site.address == "格尔木市昆仑路 6 号"


def test_the_same_file_twice_changes_nothing(app, client, people):
    data = ledger([ledger_row(n, f"测试加油站{n}") for n in range(1, 21)])
    first = upload(client, people["office"], data, dry_run=False).get_json()
    assert first["summary"]["create"] == 20
    with app.app_context():
        seqs = dict(db.session.execute(select(Site.id, Site.sync_seq)).all())
        audits = db.session.scalar(select(func.count()).select_from(AuditLog))
    again = upload(client, people["office"], data, dry_run=False).get_json()
    assert again["summary"] == {
        "rows": 20,
        "create": 0,
        "update": 0,
        "unchanged": 20,
        "refused": 0,
    }
    with app.app_context():
        assert dict(db.session.execute(select(Site.id, Site.sync_seq)).all()) == seqs
        assert db.session.scalar(select(func.count()).select_from(AuditLog)) == audits


def test_updates_by_credit_code_and_by_name_keep_what_the_file_leaves_empty(
    app, client, people, make_site
):
    field_site = make_site("格尔木市郊区加油点", lat=36.401, lon=94.902, address="")
    coded = make_site("格尔木市老名字加油站", credit_code=code(2), address="旧地址")
    rows = [
        ledger_row(1, "格尔木市郊区加油点", credit="", lat=None, lon=None),
        ledger_row(2, "格尔木市新名字加油站"),
    ]
    report = upload(client, people["office"], ledger(rows), dry_run=False).get_json()
    first, second = report["rows"]
    assert (first["action"], first["site_id"]) == ("update", field_site)
    assert (second["action"], second["site_id"]) == ("update", coded)
    assert second["changes"]["名称"] == {
        "from": "格尔木市老名字加油站",
        "to": "格尔木市新名字加油站",
    }
    with app.app_context():
        kept = db.session.get(Site, field_site)
        assert (kept.lat, kept.lon) == (36.401, 94.902)  # empty cells erase nothing
        assert kept.address == "格尔木市昆仑路 1 号"
        assert db.session.get(Site, coded).name == "格尔木市新名字加油站"


def test_duplicates_against_the_registry_are_refused_with_the_reason(
    app, client, people, make_site
):
    make_site("格尔木市昆仑路加油站", credit_code=code(9), address="昆仑路 1 号")
    make_site("格尔木市西城加油站", district="西城区", credit_code=code(3), address="西城 3 号")
    rows = [
        ledger_row(1, "格尔木市昆仑路加油站", credit=code(1)),  # same name, other code
        ledger_row(2, "格尔木市昆仑路加油站", credit="", address="别的路 2 号"),
        ledger_row(3, "格尔木市某加油站", credit=code(3)),  # 西城区's code, not the lead's
    ]
    report = upload(client, people["lead"], ledger(rows), dry_run=True).get_json()
    reasons = [r["reasons"] for r in report["rows"]]
    assert "统一社会信用代码不同" in reasons[0][0]
    assert "地址不同" in reasons[1][0]
    assert reasons[2] == ["该统一社会信用代码已登记在您辖区以外的站点"]
    assert "西城加油站" not in str(report)


def test_team_lead_imports_only_into_their_districts(app, client, people):
    rows = [ledger_row(1, "东城加油站"), ledger_row(2, "西城加油站", district="西城区")]
    report = upload(client, people["lead"], ledger(rows), dry_run=False).get_json()
    assert [r["action"] for r in report["rows"]] == ["create", "refused"]
    assert report["rows"][1]["reasons"] == ["「西城区」不在您的辖区内"]


def test_csv_with_headers_in_another_order_and_a_district_merged_down(app, client, people):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["联系电话", "名称", "类型", "所属区域", "经纬度", "统一社会信用代码", "其他"])
    writer.writerow(
        ["13800000000", "格尔木市砂石场甲", "砂石场", "郭勒木德镇", "36.33，94.86", code(7), "x"]
    )
    writer.writerow([])
    writer.writerow(["", "格尔木市砂石场乙", "砂石场", "格尔木市郭勒木德镇", "", "", ""])
    report = upload(
        client, people["office"], out.getvalue().encode("gb18030"), dry_run=False, name="a.csv"
    ).get_json()
    assert [r["action"] for r in report["rows"]] == ["create", "create"]
    assert report["rows"][1]["district"] == "郭勒木德镇"
    # A district merged down over its sites in an XLSX.
    data = xlsx(
        [
            ["名称", "类型", "所属区域"],
            ["回收站甲", "再生资源回收站点", "大格勒乡"],
            ["回收站乙", "再生资源回收站点", None],
        ],
        ("C2:C3",),
    )
    merged = upload(client, people["office"], data, dry_run=True).get_json()
    assert [r["district"] for r in merged["rows"]] == ["大格勒乡", "大格勒乡"]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "文件为空"),
        (b"PK\x03\x04not really a zip", "无法读取"),
        ("甲,乙\n1,2\n".encode(), "未找到表头"),
    ],
)
def test_unreadable_files_are_422_with_the_contract_body(client, people, data, message):
    answer = upload(client, people["office"], data, dry_run=True)
    assert answer.status_code == 422
    assert message in answer.get_json()["error"]["message"]


def test_no_file_is_422(client, people):
    answer = client.post(
        "/api/v1/sites/import",
        data={},
        headers=people["office"],
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    assert "file" in answer.get_json()["error"]["fields"]


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/api/v1/sites/import?dry_run=false"),
        ("GET", "/api/v1/sites/import-template.xlsx"),
    ],
)
def test_inspectors_may_not_import(app, client, people, method, path):
    data = ledger([ledger_row(1, "加油站甲")])
    answer = client.open(
        path,
        method=method,
        data={"file": (io.BytesIO(data), "a.xlsx")} if method == "POST" else None,
        headers=people["insp"],
    )
    assert answer.status_code == 403
    assert site_count(app) == 0


def test_template_reads_back_as_an_import(client, people):
    answer = client.get("/api/v1/sites/import-template.xlsx", headers=people["lead"])
    assert answer.status_code == 200
    assert "filename*=UTF-8''" in answer.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(answer.data))
    assert [c.value for c in book.active[1]] == [
        "名称",
        "类型",
        "统一社会信用代码",
        "地址",
        "所属区域",
        "经纬度",
        "负责人",
        "联系电话",
    ]
    report = upload(client, people["lead"], answer.data, dry_run=True).get_json()
    # The example row's code is a placeholder: refused for its check character only.
    assert report["rows"][0]["action"] == "refused"
    assert report["rows"][0]["reasons"] == ["统一社会信用代码校验位不正确（91632801MA7XXXXXXX）"]


def test_five_thousand_rows(app, client, people):
    rows = [
        ledger_row(n, f"格尔木市第{n}号站点", district=("东城区", "西城区", "大格勒乡")[n % 3])
        for n in range(1, 5001)
    ]
    data = ledger(rows)
    report = upload(client, people["office"], data, dry_run=False).get_json()
    assert report["summary"]["create"] == 5000
    assert site_count(app) == 5000
    again = upload(client, people["office"], data, dry_run=True).get_json()
    assert again["summary"]["unchanged"] == 5000


def add_finding(app, site_id: int, user_id: int, checklist) -> str:
    """An inspection with one finding at ``site_id``, made directly; its UUID."""
    from inspect_app.db_types import utcnow
    from inspect_app.sync.services import next_seq

    with app.app_context():
        site = db.session.get(Site, site_id)
        inspection = Inspection(
            uuid=str(uuid.uuid4()),
            campaign_id=checklist["campaign_id"],
            checklist_version_id=checklist["version_id"],
            site_id=site_id,
            inspector_id=user_id,
            started_at=utcnow(),
            body_digest="0" * 64,
        )
        db.session.add(inspection)
        db.session.flush()
        finding = Finding(
            uuid=str(uuid.uuid4()),
            inspection_id=inspection.id,
            campaign_id=checklist["campaign_id"],
            site_id=site_id,
            district=site.district,
            description="油罐区未设置防火堤",
            severity="key",
            found_at=utcnow(),
            sync_seq=next_seq(),
        )
        db.session.add(finding)
        db.session.commit()
        return finding.uuid


@pytest.fixture
def campaign_ids(app):
    from inspect_app.campaigns.models import Campaign, ChecklistVersion

    with app.app_context():
        version = db.session.scalar(
            select(ChecklistVersion).join(Campaign).where(Campaign.code == "refined-oil-2025")
        )
        return {"campaign_id": version.campaign_id, "version_id": version.id}


def sync(client, headers, since="0") -> dict:
    answer = client.get(f"/api/v1/sync?since={since}&limit=1000", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_merge_moves_history_and_phones_see_it(app, client, people, make_site, campaign_ids):
    winner = make_site("格尔木市昆仑路加油站")
    loser = make_site("昆仑路加油站（重复）", credit_code=code(5), lat=36.4, lon=94.9)
    with app.app_context():
        insp_id = db.session.scalar(select(func.min(AuditLog.user_id)))  # any user
    finding = add_finding(app, loser, insp_id or 1, campaign_ids)
    cursor = sync(client, people["insp"])["next_cursor"]
    merged = client.post(
        f"/api/v1/sites/{loser}/merge",
        json={"into": winner, "note": "同一站点"},
        headers=people["lead"],
    )
    assert merged.status_code == 200, merged.get_json()
    assert merged.get_json()["credit_code"] == code(5)  # filled from the loser
    changes = sync(client, people["insp"], cursor)["changes"]
    sites = {s["id"]: s for s in changes["sites"]}
    assert sites[loser]["deleted"] is True
    assert sites[winner]["deleted"] is False and sites[winner]["lat"] == 36.4
    moved = [f for f in changes["findings"] if f["id"] == finding or f.get("uuid") == finding]
    assert moved and moved[0]["site_id"] == winner
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Inspection.site_id == loser)) == 0
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "site.merge"))
        assert entry.detail["into"] == winner
    # The loser is gone for the API, and its code now names the winner on a re-import.
    assert client.get(f"/api/v1/sites/{loser}", headers=people["lead"]).status_code == 404
    again = upload(
        client, people["office"], ledger([ledger_row(5, "昆仑路加油站（重复）")]), dry_run=True
    )
    assert again.get_json()["rows"][0]["site_id"] == winner


def test_retire_is_a_tombstone_in_the_feed(app, client, people, make_site):
    site = make_site("格尔木市已关停加油站")
    cursor = sync(client, people["insp"])["next_cursor"]
    retired = client.post(
        f"/api/v1/sites/{site}/retire", json={"note": "已取缔"}, headers=people["office"]
    )
    assert retired.status_code == 200 and retired.get_json()["deleted"] is True
    changes = sync(client, people["insp"], cursor)["changes"]
    assert [(s["id"], s["deleted"]) for s in changes["sites"]] == [(site, True)]


@pytest.mark.parametrize("caller, status", [("insp", 403), ("lead", 404)])
def test_merge_and_retire_rights(client, people, make_site, caller, status):
    east = make_site("东城加油站")
    west = make_site("西城加油站", district="西城区")
    if caller == "insp":
        target = client.post(f"/api/v1/sites/{east}/retire", json={}, headers=people[caller])
    else:  # a lead may not reach a site outside their districts
        target = client.post(
            f"/api/v1/sites/{east}/merge", json={"into": west}, headers=people[caller]
        )
    assert target.status_code == status


def test_merge_into_itself_is_422(client, people, make_site):
    site = make_site()
    answer = client.post(
        f"/api/v1/sites/{site}/merge", json={"into": site}, headers=people["office"]
    )
    assert answer.status_code == 422


def test_a_file_name_with_control_characters_is_logged_without_them(app, client, people):
    data = ledger([ledger_row(1, "加油站甲")])
    report = upload(client, people["office"], data, dry_run=False, name="台\x00账\u202e.xlsx")
    assert report.status_code == 200
    assert report.get_json()["file"] == "台账.xlsx"
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "site.import"))
        assert entry.detail["file"] == "台账.xlsx" and entry.detail["created"]
