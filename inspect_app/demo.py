"""Realistic demo data for Golmud: users, sites, inspections and findings in every state.

Used by ``inspect-app demo`` and by ``make run`` on first start. Everything is
made from a seeded random generator, so two runs with the same seed match.
"""

import random
import uuid
from datetime import UTC, timedelta

from sqlalchemy import func, select

from inspect_app.auth.models import User
from inspect_app.auth.services import create_user
from inspect_app.campaigns.models import Campaign, ChecklistItem, ChecklistVersion
from inspect_app.db_types import utcnow
from inspect_app.extensions import db
from inspect_app.findings.models import Enforcement, Finding, FindingPhoto, RectificationEvent
from inspect_app.inspections.models import Answer, Inspection
from inspect_app.sites.credit_code import ALPHABET, check_character
from inspect_app.sites.models import Site
from inspect_app.sync.services import next_seq

DEMO_PASSWORD = "golmud2025"

# username, role, districts, display name
DEMO_USERS = [
    ("office", "office", [], "专项办 王主任"),
    (
        "lead_city",
        "team_lead",
        ["东城区", "西城区", "昆仑经济技术开发区", "陆港园区"],
        "组长 李建国",
    ),
    (
        "lead_rural",
        "team_lead",
        ["郭勒木德镇", "唐古拉山镇", "乌图美仁乡", "大格勒乡", "察尔汗行政委员会"],
        "组长 马成林",
    ),
    ("insp_east", "inspector", ["东城区", "昆仑经济技术开发区"], "检查员 张海涛"),
    ("insp_west", "inspector", ["西城区", "陆港园区"], "检查员 韩雪梅"),
    ("insp_south", "inspector", ["郭勒木德镇", "大格勒乡", "察尔汗行政委员会"], "检查员 才让多杰"),
    ("insp_plateau", "inspector", ["唐古拉山镇", "乌图美仁乡"], "检查员 更尕扎西"),
]

# Rough centre of each district (lat, lon); sites scatter around it.
DISTRICT_CENTRES = {
    "东城区": (36.414, 94.933),
    "西城区": (36.405, 94.877),
    "察尔汗行政委员会": (36.805, 95.205),
    "昆仑经济技术开发区": (36.432, 94.985),
    "陆港园区": (36.455, 94.852),
    "郭勒木德镇": (36.352, 94.842),
    "唐古拉山镇": (34.217, 92.441),
    "乌图美仁乡": (36.918, 93.172),
    "大格勒乡": (36.425, 95.752),
}

# Which districts host which kinds of site, and how names are made.
SITE_PLAN = {
    "加油站": (
        ["东城区", "西城区", "郭勒木德镇", "唐古拉山镇", "大格勒乡", "察尔汗行政委员会"],
        ["中国石油格尔木{road}加油站", "中国石化格尔木{road}加油站", "{town}{road}加油点"],
    ),
    "油库": (["昆仑经济技术开发区", "陆港园区"], ["格尔木{name}石油储运油库"]),
    "工矿企业自备油罐": (
        ["察尔汗行政委员会", "昆仑经济技术开发区"],
        ["{name}矿业有限公司自备油罐"],
    ),
    "建筑工地": (["东城区", "西城区", "陆港园区"], ["{name}建设工程项目部工地"]),
    "流动加油车": (["郭勒木德镇", "大格勒乡", "乌图美仁乡"], ["青H·{plate}流动加油车"]),
    "再生资源回收站点": (
        ["东城区", "西城区", "郭勒木德镇", "陆港园区"],
        ["格尔木市{name}再生资源回收站"],
    ),
    "危险化学品企业": (["昆仑经济技术开发区", "察尔汗行政委员会"], ["青海{name}化工有限公司"]),
    "砂石场": (["郭勒木德镇", "大格勒乡", "乌图美仁乡"], ["格尔木{name}砂石料厂"]),
    "洗砂场": (["郭勒木德镇", "大格勒乡"], ["{town}{name}洗砂场"]),
    "砂金盗采点": (["乌图美仁乡", "唐古拉山镇", "大格勒乡"], ["{river}河道疑似盗采砂金点{n}号"]),
}
ROADS = [
    "昆仑南路",
    "柴达木西路",
    "八一中路",
    "江源路",
    "盐湖路",
    "金峰路",
    "G109 2740 公里",
    "G315",
]
NAMES = [
    "昆仑",
    "盐湖",
    "柴达木",
    "江源",
    "雪峰",
    "金源",
    "通达",
    "恒盛",
    "西部",
    "宏远",
    "瑞丰",
    "鑫达",
]
RIVERS = ["那棱格勒", "格尔木", "托拉海", "楚拉克阿拉干", "沱沱"]
CAMPAIGN_SITE_TYPES = {
    "refined-oil-2025": ["加油站", "油库", "工矿企业自备油罐", "建筑工地", "流动加油车"],
    "hazchem-2025": ["危险化学品企业", "加油站", "再生资源回收站点"],
    "recycling-2025": ["再生资源回收站点"],
    "sand-gravel-2024": ["砂石场", "洗砂场"],
    "placer-gold-2024": ["砂金盗采点"],
}
DESCRIPTIONS = [
    "现场未见{thing}",
    "{thing}已过期未更新",
    "{thing}不齐全，台账记录缺失近两个月",
    "{thing}设置不符合规定",
]
THINGS = [
    "营业执照",
    "危险化学品经营许可证",
    "消防器材",
    "安全警示标志",
    "购销台账",
    "应急预案",
    "防静电接地装置",
    "从业人员培训记录",
    "视频监控",
    "进出场登记",
]


def has_demo_data() -> bool:
    return db.session.scalar(select(func.count()).select_from(Site)) > 0


def credit_code(rng: random.Random) -> str:
    body = "91" + "632801" + "".join(rng.choice(ALPHABET) for _ in range(9))
    return body + check_character(body)


def _site_name(rng: random.Random, site_type: str, district: str, n: int) -> str:
    pattern = rng.choice(SITE_PLAN[site_type][1])
    plate = f"{rng.choice('ABCDE')}{rng.randint(10000, 99999)}"
    return pattern.format(
        road=rng.choice(ROADS),
        town=district,
        name=rng.choice(NAMES) + str(n),
        river=rng.choice(RIVERS),
        n=n,
        plate=plate,
    )


def _users() -> dict[str, User]:
    users = {}
    for username, role, districts, name in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        users[username] = user or create_user(username, role, DEMO_PASSWORD, districts, name)
    return users


def _sites(rng: random.Random, users: dict[str, User], per_type: int) -> list[Site]:
    sites = []
    taken = set()  # (name, district): a live site's name is unique in its district (0006)
    n = 0
    for site_type, (districts, _) in SITE_PLAN.items():
        for _ in range(per_type):
            n += 1
            district = rng.choice(districts)
            name = _site_name(rng, site_type, district, n)
            while (name, district) in taken:
                name = _site_name(rng, site_type, district, n)
            taken.add((name, district))
            lat, lon = DISTRICT_CENTRES[district]
            unlicensed = site_type in ("砂金盗采点", "流动加油车") or rng.random() < 0.08
            site = Site(
                name=name,
                site_type=site_type,
                credit_code=None if unlicensed else credit_code(rng),
                address=f"格尔木市{district}{rng.choice(ROADS)}{rng.randint(1, 300)}号",
                district=district,
                lat=round(lat + rng.uniform(-0.05, 0.05), 6),
                lon=round(lon + rng.uniform(-0.05, 0.05), 6),
                licences=[] if unlicensed else ["营业执照"],
                contact_name=rng.choice(["王", "李", "张", "马", "韩", "赵"])
                + rng.choice(["经理", "站长", "主任"]),
                contact_phone=f"139{rng.randint(10000000, 99999999)}",
                sync_seq=next_seq(),
            )
            db.session.add(site)
            sites.append(site)
    db.session.flush()
    return sites


def _demo_photos(photos_dir, media_dir, uploader) -> list[str]:
    """Store the JPEGs of ``photos_dir`` as uploaded photos; returns their hashes."""
    import hashlib
    from pathlib import Path

    from inspect_app.photos import imaging
    from inspect_app.photos.models import Photo
    from inspect_app.photos.storage import MediaStore

    store = MediaStore(media_dir)
    hashes = []
    for path in sorted(Path(photos_dir).glob("*.jpg")):
        if "corrupted" in path.name:
            continue  # the sample set's deliberately damaged file: not a demo picture
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        if db.session.get(Photo, sha) is None:
            try:
                with path.open("rb") as stream:
                    store.receive(sha, stream, total=len(data), max_bytes=len(data))
                info = imaging.process(store, sha)
            except (imaging.ImageRejected, OSError):
                store.remove(sha)
                continue  # the damaged sample photo, say
            db.session.add(
                Photo(
                    sha256=sha,
                    content_type=info.content_type,
                    size_bytes=len(data),
                    width=info.width,
                    height=info.height,
                    taken_at=info.taken_at,
                    lat=info.lat,
                    lon=info.lon,
                    uploaded_by_id=uploader.id,
                )
            )
        hashes.append(sha)
    db.session.flush()
    return hashes


def seed_demo(
    inspections: int = 300, seed: int = 2025, progress=None, photos_dir=None, media_dir=None
) -> dict:
    """Create demo users, sites, inspections and findings; returns counts.

    With ``photos_dir`` (sample JPEGs) and ``media_dir``, findings get real photos.
    """
    rng = random.Random(seed)
    users = _users()
    sites = _sites(rng, users, per_type=max(3, inspections // 25))
    inspectors = [u for u in users.values() if u.role == "inspector"]
    leads = [u for u in users.values() if u.role == "team_lead"]
    office = users["office"]

    campaigns = {}
    for code, site_types in CAMPAIGN_SITE_TYPES.items():
        campaign = db.session.scalar(select(Campaign).where(Campaign.code == code))
        if campaign is None:
            continue
        version = db.session.scalar(
            select(ChecklistVersion)
            .where(ChecklistVersion.campaign_id == campaign.id)
            .order_by(ChecklistVersion.version.desc())
            .limit(1)
        )
        items = list(
            db.session.scalars(
                select(ChecklistItem)
                .where(ChecklistItem.checklist_version_id == version.id)
                .order_by(ChecklistItem.position)
            )
        )
        campaigns[code] = (campaign, version, items, site_types)
    if not campaigns:
        raise RuntimeError("no checklists loaded: run inspect-app init first")

    now = utcnow()
    counts = {"inspections": 0, "findings": 0}
    photos = _demo_photos(photos_dir, media_dir, inspectors[0]) if photos_dir and media_dir else []
    steps = range(inspections)
    bar = progress(steps, label="生成演示数据", length=inspections) if progress else None
    iterator = bar.__enter__() if bar else steps
    try:
        for _ in iterator:
            code = rng.choice(list(campaigns))
            campaign, version, items, site_types = campaigns[code]
            candidates = [s for s in sites if s.site_type in site_types]
            site = rng.choice(candidates)
            inspector = next((u for u in inspectors if site.district in u.districts), inspectors[0])
            started = now - timedelta(
                days=rng.randint(1, 150), hours=rng.randint(0, 8), minutes=rng.randint(0, 59)
            )
            inspection = Inspection(
                uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                campaign_id=campaign.id,
                checklist_version_id=version.id,
                site_id=site.id,
                inspector_id=inspector.id,
                started_at=started,
                finished_at=started + timedelta(minutes=rng.randint(20, 90)),
                lat=site.lat,
                lon=site.lon,
                final=True,
                body_digest="demo",
                created_at=started,
                updated_at=started,
            )
            db.session.add(inspection)
            db.session.flush()
            applicable = [i for i in items if not i.site_types or site.site_type in i.site_types]
            applicable = applicable or items
            chosen = rng.sample(applicable, k=min(len(applicable), rng.randint(4, 12)))
            for item in chosen:
                result = (
                    "fail" if rng.random() < 0.3 else rng.choice(["pass", "pass", "pass", "na"])
                )
                inspection.answers.append(Answer(item_id=item.id, result=result))
                if result == "fail":
                    finding = _finding(
                        rng,
                        campaign,
                        inspection,
                        site,
                        item,
                        started,
                        inspector,
                        leads,
                        office,
                        now,
                    )
                    for position in range(rng.randint(1, 2) if photos else 0):
                        sha = photos[(finding.id + position) % len(photos)]
                        db.session.add(
                            FindingPhoto(finding_id=finding.id, sha256=sha, position=position)
                        )
                    counts["findings"] += 1
            counts["inspections"] += 1
            db.session.flush()
    finally:
        if bar:
            bar.__exit__(None, None, None)
    return counts


def _finding(rng, campaign, inspection, site, item, found_at, inspector, leads, office, now):
    severity = item.default_severity if rng.random() < 0.8 else rng.choice(["general", "key"])
    days = campaign.key_deadline_days if severity == "key" else campaign.general_deadline_days
    deadline = (found_at + timedelta(days=days)).astimezone(UTC).date()
    fixed_on_spot = severity == "general" and rng.random() < 0.25
    thing = rng.choice(THINGS)
    finding = Finding(
        uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        campaign_id=campaign.id,
        site_id=site.id,
        item_id=item.id,
        district=site.district,
        description=rng.choice(DESCRIPTIONS).format(thing=thing),
        severity=severity,
        major_hazard=severity == "key" and rng.random() < 0.2,
        requirement="立即整改" if fixed_on_spot else f"限期完善{thing}并报送整改材料",
        deadline=deadline,
        fixed_on_spot=fixed_on_spot,
        status="open",
        responsible_department=item.lead_department,
        found_at=found_at,
        created_at=found_at,
        updated_at=found_at,
    )
    finding.inspection_id = inspection.id
    db.session.add(finding)
    lead = next((u for u in leads if site.district in u.districts), leads[0])
    at = found_at

    def move(action, to_status, actor, note="", days_later=1.0):
        nonlocal at
        at = min(at + timedelta(days=days_later), now)
        finding.events.append(
            RectificationEvent(
                action=action,
                from_status=finding.status if action != "record" else None,
                to_status=to_status,
                actor_id=actor.id,
                at=at,
                note=note,
            )
        )
        finding.status = to_status
        finding.updated_at = at
        if to_status == "closed":
            finding.closed_at = at

    move("record", "open", inspector, "现场检查发现", days_later=0)
    if fixed_on_spot:
        move("approve", "closed", inspector, "立行立改，现场整改完毕", days_later=0)
    else:
        fate = rng.random()
        if fate < 0.2:
            pass  # still open (some of these will be overdue)
        elif fate < 0.4:
            move("start", "rectifying", inspector, "企业已着手整改", rng.uniform(1, 5))
        elif fate < 0.55:
            move("start", "rectifying", inspector, "企业已着手整改", rng.uniform(1, 5))
            move("submit", "pending_review", inspector, "企业报送整改照片", rng.uniform(2, 10))
        elif fate < 0.62:
            move("submit", "pending_review", inspector, "企业报送整改材料", rng.uniform(2, 8))
            move("reject", "rectifying", lead, "整改不到位，需重新整改", rng.uniform(1, 4))
        elif fate < 0.97:
            move("start", "rectifying", inspector, "企业已着手整改", rng.uniform(1, 5))
            move("submit", "pending_review", inspector, "企业报送整改照片", rng.uniform(2, 10))
            move("approve", "closed", lead, "复查合格，予以销号", rng.uniform(1, 5))
            if rng.random() < 0.05:
                move("reopen", "rectifying", lead, "回头看发现问题反弹", rng.uniform(10, 30))
        else:
            move("void", "voided", office, "录入重复，予以作废", rng.uniform(1, 3))
    finding.sync_seq = next_seq()
    db.session.flush()
    if severity == "key" and rng.random() < 0.3:
        kind = rng.choice(
            [
                "order_rectify",
                "suspend",
                "fine",
                "fine",
                "ban",
                "refer_police",
                "blacklist",
                "revoke_licence",
            ]
        )
        db.session.add(
            Enforcement(
                campaign_id=campaign.id,
                site_id=site.id,
                finding_id=finding.id,
                kind=kind,
                fine_yuan=rng.choice([5000, 10000, 20000, 50000]) if kind == "fine" else None,
                note="",
                actor_id=lead.id,
                at=min(found_at + timedelta(days=3), now),
            )
        )
    return finding
