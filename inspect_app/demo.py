"""Demo data for Golmud that reads like the real thing: users, sites, inspections, findings.

Used by ``inspect-app demo`` and by ``make run`` on first start. Everything is made from a
seeded random generator, so two runs with the same seed match. What makes it believable:

- sites are placed where such sites are: fuel stations on the city's streets or at a
  kilometre marker of G109 / G215 / G315, sand pits on river beds, gold-digging spots in
  the placer areas the notice names; an illegal spot has no licence and no contact;
- every answer is to an item that applies to the site's type, and a finding's text is the
  failed item said as a statement (检查项 "是否…？" becomes what was found);
- every inspection and every move of a finding falls on a working day, 08:00–19:00
  Beijing time, inside the stages of its campaign (the 2024 campaigns ended in 2024);
- photos are real camera photos of ``shared/photos`` that fit the place (open ground for
  pits and digging spots, snow for the plateau), stored through the upload path.
"""

import hashlib
import random
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from inspect_app.auth.models import User
from inspect_app.auth.services import create_user
from inspect_app.campaigns.models import Campaign, ChecklistItem, ChecklistVersion
from inspect_app.db_types import utcnow
from inspect_app.domain import TIMEZONE
from inspect_app.extensions import db
from inspect_app.findings.models import Enforcement, Finding, FindingPhoto, RectificationEvent
from inspect_app.inspections.models import Answer, Inspection
from inspect_app.photos.services import record_photo
from inspect_app.photos.storage import MediaStore
from inspect_app.sites.credit_code import ALPHABET, check_character
from inspect_app.sites.models import Site
from inspect_app.sync.services import next_seq

DEMO_PASSWORD = "golmud2025"
BEIJING = ZoneInfo(TIMEZONE)
# The working day in Golmud (Beijing time): nothing is recorded outside it.
DAY_STARTS, DAY_ENDS = time(8, 0), time(19, 0)
# Sites were registered before the first campaign began.
SITES_REGISTERED = datetime(2024, 6, 3, 9, 30, tzinfo=BEIJING)

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

# Rough centre of each district (lat, lon) and how far its sites scatter (degrees).
DISTRICT_CENTRES = {
    "东城区": (36.409, 94.917, 0.012),
    "西城区": (36.402, 94.884, 0.012),
    "昆仑经济技术开发区": (36.392, 94.975, 0.015),
    "陆港园区": (36.447, 94.861, 0.01),
    "察尔汗行政委员会": (36.800, 95.180, 0.05),
    "郭勒木德镇": (36.330, 94.860, 0.06),
    "唐古拉山镇": (34.217, 92.441, 0.04),
    "乌图美仁乡": (36.915, 93.170, 0.06),
    "大格勒乡": (36.430, 95.700, 0.04),
}

# Streets of the city districts; park roads; the national roads through each town, with
# the kilometre markers of their stretch there (G109 counts from Beijing: Golmud ~K2725,
# 沱沱河 ~K3320; G315 west of the city towards 乌图美仁 and 茫崖; G215 north to 察尔汗).
STREETS = {
    "东城区": ["昆仑中路", "昆仑北路", "柴达木东路", "黄河中路", "江源中路", "盐桥中路"],
    "西城区": ["柴达木西路", "八一中路", "昆仑南路", "西藏路", "金峰路", "河西路"],
    "昆仑经济技术开发区": ["经一路", "经三路", "纬二路", "纬五路", "黄河东路"],
    "陆港园区": ["陆港大道", "物流一路", "物流三路", "站前路"],
}
HIGHWAYS = {
    "郭勒木德镇": [("G109", 2728, 2760), ("G315", 1012, 1040)],
    "大格勒乡": [("G109", 2655, 2682)],
    "唐古拉山镇": [("G109", 3312, 3334)],
    "察尔汗行政委员会": [("G215", 660, 690)],
    "乌图美仁乡": [("G315", 1148, 1180)],
}
# Where a place in a town is named in an address (村, 工业园, 盐湖).
VILLAGES = {
    "郭勒木德镇": ["新华村", "宝库村", "红柳村", "城北村", "唐古拉村"],
    "大格勒乡": ["查那村", "大格勒村"],
    "察尔汗行政委员会": ["察尔汗盐湖工业园"],
    "唐古拉山镇": ["沱沱河"],
}
# The place a town's fuel station is named after.
STATION_PLACES = {
    "郭勒木德镇": ["南山口", "河西", "城北"],
    "大格勒乡": ["大格勒"],
    "唐古拉山镇": ["沱沱河"],
    "察尔汗行政委员会": ["察尔汗"],
}
# Rivers with sand and gravel beds, by district.
SAND_RIVERS = {
    "郭勒木德镇": ["格尔木河"],
    "乌图美仁乡": ["乌图美仁河"],
}
# Placer-gold areas (the notice names 野牛沟黑海北, 大干沟, 小干沟, 红金滩, 乌图美仁乡腹地).
GOLD_PLACES = {
    "郭勒木德镇": ["野牛沟黑海北", "大干沟", "小干沟"],
    "乌图美仁乡": ["那棱格勒河", "红金滩", "乌图美仁河上游"],
    "唐古拉山镇": ["沱沱河", "通天河"],
}
COMPANY_WORDS = ["昆仑", "盐湖", "柴达木", "江源", "雪峰", "金源", "通达", "恒盛", "西部"]
COMPANY_WORDS += ["宏远", "瑞丰", "鑫达", "聚能", "天恒", "荣泰", "祥和", "诚信", "海西"]
SURNAMES = "王李张马韩赵刘陈杨冯祁白鲁蒋石"
GIVEN = ["建国", "海燕", "志强", "玉兰", "永福", "秀英", "文斌", "国庆", "德明", "晓东"]
GIVEN += ["卓玛", "才让", "桂花", "生财", "长海", "金花", "学军", "占林", "有福", "红梅"]

CAMPAIGN_SITE_TYPES = {
    "refined-oil-2025": ["加油站", "油库", "工矿企业自备油罐", "建筑工地", "流动加油车"],
    "hazchem-2025": ["危险化学品企业", "加油站", "油库", "再生资源回收站点"],
    "recycling-2025": ["再生资源回收站点"],
    "sand-gravel-2024": ["砂石场", "洗砂场"],
    "placer-gold-2024": ["砂金盗采点"],
}

# Sample photos that show what such a place looks like (shared/photos, SOURCES.md):
# DSCN0010 bare ground, scrub and low buildings at a settlement's edge; DSCN0021 a
# gravel path with trees beside houses; nokia_8.3.heif snow-covered ground. The orientation
# test images (painted digits), the iguana, the flowers, the leaf and the damaged file
# show nothing a site could.
OPEN_GROUND = "DSCN0010.jpg"
GRAVEL_YARD = "DSCN0021.jpg"
SNOW = "nokia_8.3.heif"
DEMO_PHOTOS = (OPEN_GROUND, GRAVEL_YARD, SNOW)
PHOTOS_BY_TYPE = {
    "砂石场": [OPEN_GROUND],
    "洗砂场": [OPEN_GROUND],
    "砂金盗采点": [OPEN_GROUND],
    "建筑工地": [OPEN_GROUND, GRAVEL_YARD],
    "再生资源回收站点": [GRAVEL_YARD, OPEN_GROUND],
}
PLATEAU = {"唐古拉山镇"}  # snow there in autumn as much as in winter

REQUIREMENTS = {
    "砂金盗采点": "立即清场，拆除、扣押采金设备，对破坏的河道和草场限期恢复",
    "砂石场": "立即停止违法开采，限期办理手续并恢复河道、林草地原貌",
    "洗砂场": "立即停止洗砂作业，限期整改并报送整改材料",
    "流动加油车": "立即停止流动售油，车辆及油品依法扣押处理",
}


@dataclass
class PlannedSite:
    site_type: str
    district: str
    name: str
    address: str
    contact_title: str | None  # None: nobody answers for the place (an illegal spot)
    licences: list[str]


def has_demo_data() -> bool:
    return db.session.scalar(select(func.count()).select_from(Site)) > 0


def credit_code(rng: random.Random) -> str:
    body = "91" + "632801" + "".join(rng.choice(ALPHABET) for _ in range(9))
    return body + check_character(body)


def _marker(rng: random.Random, district: str) -> tuple[str, str]:
    """A national road through the district and a kilometre marker on it."""
    road, first, last = rng.choice(HIGHWAYS[district])
    return road, f"{road}线K{rng.randint(first, last)}+{rng.randrange(0, 1000, 50):03d}"


def _street(rng: random.Random, district: str) -> tuple[str, str]:
    street = rng.choice(STREETS[district])
    return street, f"{street}{rng.randint(1, 180)}号"


def _company(rng: random.Random) -> str:
    return "".join(rng.sample(COMPANY_WORDS, 2))


def _address(rng: random.Random, district: str) -> str:
    """A street number in the city, a numbered plot in a village or industrial park."""
    if district in STREETS:
        return _street(rng, district)[1]
    return f"{rng.choice(VILLAGES[district])}{rng.randint(1, 40)}号"


def _fuel_station(rng, district, n):
    brand = rng.choice(["中国石油", "中国石油", "中国石化", "民营"])
    if district in STREETS:
        street, address = _street(rng, district)
        place = street
    else:
        road, address = _marker(rng, district)
        place = rng.choice(STATION_PLACES[district])
        address = f"{address}（{place}）"
    if brand == "民营":
        name = f"格尔木{_company(rng)}{place}加油站"
        licences = ["营业执照", "成品油零售经营批准证书", "危险化学品经营许可证"]
    else:
        name = f"{brand}格尔木{place}加油站"
        licences = ["营业执照", "成品油零售经营批准证书", "危险化学品经营许可证"]
    return PlannedSite("加油站", district, name, address, "站长", licences)


def _depot(rng, district, n):
    _, address = _street(rng, district)
    name = f"格尔木{_company(rng)}石油储运有限公司油库"
    return PlannedSite(
        "油库", district, name, address, "库区主任", ["营业执照", "危险化学品经营许可证"]
    )


def _own_tank(rng, district, n):
    name = f"青海{_company(rng)}矿业有限公司自备油罐"
    address = _address(rng, district)
    return PlannedSite("工矿企业自备油罐", district, name, address, "设备部主任", ["营业执照"])


def _building_site(rng, district, n):
    street, address = _street(rng, district)
    project = rng.choice(
        [
            f"{_company(rng)}花园二期",
            f"{street}道路改造",
            f"{_company(rng)}物流仓储",
            "市第三中学教学楼",
        ]
    )
    name = f"{project}工程项目部工地"
    return PlannedSite(
        "建筑工地", district, name, address, "项目经理", ["营业执照", "建筑工程施工许可证"]
    )


def _fuel_truck(rng, district, n):
    _, address = _marker(rng, district)
    name = f"青H·{rng.choice('ABCDEF')}{rng.randint(10000, 99999)}流动加油车"
    return PlannedSite("流动加油车", district, name, f"{address}附近（查获地点）", "驾驶员", [])


def _recycling(rng, district, n):
    address = _address(rng, district)
    name = f"格尔木市{_company(rng)}再生资源回收站"
    return PlannedSite("再生资源回收站点", district, name, address, "经营者", ["营业执照"])


def _chemicals(rng, district, n):
    address = _address(rng, district)
    name = f"青海{_company(rng)}化工有限公司"
    licences = ["营业执照", "安全生产许可证", "危险化学品登记证"]
    return PlannedSite("危险化学品企业", district, name, address, "安全总监", licences)


def _river_bed(rng, district) -> str:
    """A sand and gravel bed: a river's bank, or a wash beside the national road."""
    if district in SAND_RIVERS:
        return rng.choice(SAND_RIVERS[district]) + rng.choice(["东岸", "西岸", "河道"])
    return _marker(rng, district)[1] + rng.choice(["北侧河滩", "南侧洪积扇"])


def _sand_pit(rng, district, n):
    name = f"格尔木{_company(rng)}砂石料厂"
    licences = ["营业执照", "采矿许可证"]
    return PlannedSite("砂石场", district, name, _river_bed(rng, district), "场长", licences)


def _sand_wash(rng, district, n):
    name = f"{district}{_company(rng)}洗砂场"
    return PlannedSite("洗砂场", district, name, _river_bed(rng, district), "负责人", ["营业执照"])


def _gold_spot(rng, district, n):
    place = rng.choice(GOLD_PLACES[district])
    name = f"{place}疑似盗采砂金点{rng.randint(1, 12)}号"
    address = f"{place}（距最近道路约{rng.randint(8, 60)}公里，无门牌）"
    return PlannedSite("砂金盗采点", district, name, address, None, [])


PLANNERS = {
    "加油站": _fuel_station,
    "油库": _depot,
    "工矿企业自备油罐": _own_tank,
    "建筑工地": _building_site,
    "流动加油车": _fuel_truck,
    "再生资源回收站点": _recycling,
    "危险化学品企业": _chemicals,
    "砂石场": _sand_pit,
    "洗砂场": _sand_wash,
    "砂金盗采点": _gold_spot,
}
# Which districts host which kinds of site.
SITE_PLANS = {
    "加油站": ["东城区", "西城区", "郭勒木德镇", "唐古拉山镇", "大格勒乡", "察尔汗行政委员会"],
    "油库": ["昆仑经济技术开发区", "陆港园区"],
    "工矿企业自备油罐": ["察尔汗行政委员会", "昆仑经济技术开发区"],
    "建筑工地": ["东城区", "西城区", "陆港园区"],
    "流动加油车": ["郭勒木德镇", "大格勒乡", "乌图美仁乡"],
    "再生资源回收站点": ["东城区", "西城区", "郭勒木德镇", "陆港园区"],
    "危险化学品企业": ["昆仑经济技术开发区", "察尔汗行政委员会"],
    "砂石场": ["郭勒木德镇", "大格勒乡", "乌图美仁乡"],
    "洗砂场": ["郭勒木德镇", "大格勒乡"],
    "砂金盗采点": ["乌图美仁乡", "唐古拉山镇", "郭勒木德镇"],
}


def _users() -> dict[str, User]:
    users = {}
    for username, role, districts, name in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        users[username] = user or create_user(username, role, DEMO_PASSWORD, districts, name)
    return users


def _sites(rng: random.Random, per_type: int) -> list[Site]:
    sites = []
    # A live site's name is unique in its district (migration 0006); in the demo it is
    # unique in the city, as two places of one name in two districts would puzzle a reader.
    taken = set()
    n = 0
    registered = SITES_REGISTERED.astimezone(UTC)
    for site_type, plan in PLANNERS.items():
        districts = SITE_PLANS[site_type]
        for k in range(per_type):
            n += 1
            district = districts[k % len(districts)]  # every district has its share
            planned = plan(rng, district, n)
            while planned.name in taken:
                planned = plan(rng, district, n)
            taken.add(planned.name)
            lat, lon, spread = DISTRICT_CENTRES[planned.district]
            contact = planned.contact_title
            site = Site(
                name=planned.name,
                site_type=site_type,
                credit_code=credit_code(rng) if planned.licences else None,
                address=f"青海省格尔木市{planned.district}{planned.address}",
                district=planned.district,
                lat=round(lat + rng.uniform(-spread, spread), 6),
                lon=round(lon + rng.uniform(-spread, spread), 6),
                licences=planned.licences,
                contact_name=""
                if contact is None
                else f"{contact} {rng.choice(SURNAMES)}{rng.choice(GIVEN)}",
                contact_phone="" if contact is None else f"139{rng.randint(10000000, 99999999)}",
                created_at=registered,
                updated_at=registered,
                sync_seq=next_seq(),
            )
            db.session.add(site)
            sites.append(site)
    db.session.flush()
    return sites


def _demo_photos(photos_dir, media_dir, users: dict[str, User]) -> dict[str, str]:
    """Store the fitting sample photos through the upload path; returns {file name: sha256}.

    A file that is missing or refused by the upload checks is left out.
    """
    store = MediaStore(media_dir)
    hashes = {}
    for name in DEMO_PHOTOS:
        path = Path(photos_dir) / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        with path.open("rb") as stream:
            received = store.receive(sha, stream, total=len(data), max_bytes=len(data))
        try:
            uploader = users["insp_plateau" if name == SNOW else "insp_south"]
            photo, _ = record_photo(store, received, uploader, whole=True)
        except Exception:  # noqa: BLE001 - a refused sample is simply not used
            continue
        # The sample cameras dated these photos years before any campaign (2008): a
        # report captioned 拍摄时间 2008 beside a 2025 inspection would mislead, so the
        # demo keeps no taking time, as for a camera that recorded none.
        photo.taken_at = None
        hashes[name] = sha
    db.session.flush()
    return hashes


# ---------------------------------------------------------------------------
# Time: working days inside a campaign's stages


class CampaignClock:
    """Working hours on working days within a campaign's stages, never after ``now``."""

    def __init__(self, stages: list[dict], now: datetime):
        self.windows = sorted(
            (date.fromisoformat(s["starts_on"]), date.fromisoformat(s["ends_on"])) for s in stages
        )
        self.now = now
        self.days = [
            d
            for start, end in self.windows
            for d in (start + timedelta(days=i) for i in range((end - start).days + 1))
            if d.weekday() < 5 and self._at(d, DAY_ENDS) <= now
        ]
        self.days = sorted(set(self.days))

    @staticmethod
    def _at(day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=BEIJING).astimezone(UTC)

    def inspection_start(self, rng: random.Random) -> datetime:
        """A morning or afternoon start that leaves time for the inspection before 19:00."""
        day = rng.choice(self.days)
        minutes = rng.randint(8 * 60 + 30, 16 * 60 + 30)
        return self._at(day, time(minutes // 60, minutes % 60))

    def later(self, rng: random.Random, at: datetime, days: float) -> datetime | None:
        """The working moment about ``days`` after ``at``; None once the campaign is over."""
        target = (at + timedelta(days=days)).astimezone(BEIJING)
        day = target.date()
        if target.time() >= DAY_ENDS:
            day += timedelta(days=1)
        for candidate in self.days:
            if candidate >= day:
                break
        else:
            return None
        if candidate == target.date() and DAY_STARTS <= target.time() < DAY_ENDS:
            moment = target.astimezone(UTC)
        else:
            minutes = rng.randint(8 * 60 + 30, 17 * 60 + 30)
            moment = self._at(candidate, time(minutes // 60, minutes % 60))
        if moment <= at:  # the same working day: a little later that day, if it has time
            moment = at + timedelta(minutes=rng.randint(10, 60))
            if moment.astimezone(BEIJING).time() >= DAY_ENDS:
                return None
        return moment


# ---------------------------------------------------------------------------
# Findings: the failed item said as a statement

# A checklist item asks "…是否…？"; when the answer is "fail", what was found is the
# opposite. The question words are turned, longest first.
_TURNS = [
    ("是否存在", "存在"),
    ("是否回收", "回收"),
    ("是否涉及", "涉及"),
    ("是否影响", "影响"),
    ("是否严重破坏", "严重破坏"),
    ("是否安装", "安装"),
    ("是否从事", "从事"),
    ("是否为", "为"),
    ("能否提供", "不能提供"),
    ("是否符合", "不符合"),
    ("是否齐全", "不齐全"),
    ("是否具备", "不具备"),
    ("是否真实完整", "不真实、不完整"),
    ("是否完整", "不完整"),
    ("是否清楚可查", "不清、无法查证"),
    ("是否完好", "未保持完好"),
    ("是否性能良好", "性能不良"),
    ("是否达标", "未达标"),
    ("是否来源合法", "来源不合法"),
    ("是否已", "尚未"),
    ("是否全部", "未全部"),
    ("是否", "未"),
    ("有无", "存在"),
]
_TURN = re.compile("|".join(re.escape(q) for q, _ in _TURNS))
_TURNED = dict(_TURNS)
# Where turning word by word reads wrong, the statement is written out.
_STATEMENTS = {
    "HC-67": "应急物资未定期检查、维护和更新，部分性能不良",
    "RC-05": "再生资源回收站点管理制度未张贴或张贴不全",
    "PG-03": "现场发现已安装的采金装置（一经发现即视为存在采金行为）",
    "RO-03": "存在采购、销售地炼厂未税油品或偷税漏税的行为",
    "RO-07": "自备油罐不符合设置条件或未登记建档（不符合条件的应予取缔）",
    "HC-17": "化工企业未完成老旧装置排查，未确定安全风险等级、未建立老旧装置安全风险动态管理台账",
    "HC-64": "企业未制定自然灾害应急预案，未明确各部门和人员在灾害发生时的职责",
    "HC-12": "“五室”（中央控制室、交接班室、办公室、休息室、实验室）尚未搬迁到位",
}
_OPENINGS = ["现场检查发现", "经现场核查", "查阅台账并现场核实", "现场查看"]
# Where nobody keeps records (an illegal spot, a stopped tanker) nothing is read but the place.
_FIELD_OPENINGS = ["现场检查发现", "巡查发现", "现场查看"]


def finding_statement(item: ChecklistItem) -> str:
    """What a failed answer to ``item`` means, as the inspector writes it down."""
    if item.code in _STATEMENTS:
        return _STATEMENTS[item.code]
    text = item.text.rstrip("？?")
    return _TURN.sub(lambda m: _TURNED[m.group(0)], text)


def _description(rng: random.Random, site: Site, item: ChecklistItem) -> str:
    openings = _OPENINGS if site.licences else _FIELD_OPENINGS
    return f"{rng.choice(openings)}，{finding_statement(item)}。"


def _requirement(site: Site, item: ChecklistItem, days: int, fixed_on_spot: bool) -> str:
    if fixed_on_spot:
        return "立即整改"
    action = REQUIREMENTS.get(site.site_type, "对照检查项逐项整改到位，报送整改材料")
    return f"{action}（{days}日内，依据工作方案{item.clause}）"


def seed_demo(
    inspections: int = 300, seed: int = 2025, progress=None, photos_dir=None, media_dir=None
) -> dict:
    """Create demo users, sites, inspections and findings; returns counts.

    With ``photos_dir`` (the sample photos) and ``media_dir``, findings at places the
    photos fit get them.
    """
    rng = random.Random(seed)
    users = _users()
    sites = _sites(rng, per_type=max(3, inspections // 25))
    inspectors = [u for u in users.values() if u.role == "inspector"]
    leads = [u for u in users.values() if u.role == "team_lead"]
    office = users["office"]
    now = utcnow()

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
        clock = CampaignClock(campaign.stages, now)
        by_site = {}
        for site in sites:
            if site.site_type in site_types:
                applicable = [i for i in items if site.site_type in (i.site_types or [])]
                if applicable:
                    by_site[site.id] = applicable
        if clock.days and by_site:
            campaigns[code] = (campaign, version, clock, by_site)
    if not campaigns:
        raise RuntimeError("no checklists loaded: run inspect-app init first")

    counts = {"inspections": 0, "findings": 0}
    photos = {}
    if photos_dir and media_dir:
        photos = _demo_photos(photos_dir, media_dir, users)
    site_by_id = {s.id: s for s in sites}
    steps = range(inspections)
    bar = progress(steps, label="生成演示数据", length=inspections) if progress else None
    iterator = bar.__enter__() if bar else steps
    try:
        for _ in iterator:
            code = rng.choice(list(campaigns))
            campaign, version, clock, by_site = campaigns[code]
            site = site_by_id[rng.choice(sorted(by_site))]
            inspector = next((u for u in inspectors if site.district in u.districts), inspectors[0])
            started = clock.inspection_start(rng)
            finished = started + timedelta(minutes=rng.randint(20, 90))
            inspection = Inspection(
                uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                campaign_id=campaign.id,
                checklist_version_id=version.id,
                site_id=site.id,
                inspector_id=inspector.id,
                started_at=started,
                finished_at=finished,
                lat=site.lat,
                lon=site.lon,
                final=True,
                body_digest="demo",
                created_at=finished,
                updated_at=finished,
            )
            db.session.add(inspection)
            db.session.flush()
            applicable = by_site[site.id]
            chosen = rng.sample(applicable, k=min(len(applicable), rng.randint(4, 12)))
            fitting = [photos[p] for p in _photos_for(site) if p in photos]
            for item in chosen:
                result = (
                    "fail" if rng.random() < 0.3 else rng.choice(["pass", "pass", "pass", "na"])
                )
                inspection.answers.append(Answer(item_id=item.id, result=result))
                if result == "fail":
                    finding = _finding(
                        rng,
                        campaign,
                        clock,
                        inspection,
                        site,
                        item,
                        started,
                        inspector,
                        leads,
                        office,
                        fitting,
                    )
                    shown = fitting[: rng.randint(1, len(fitting))] if fitting else []
                    for position, sha in enumerate(shown):
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


def _photos_for(site: Site) -> list[str]:
    """The sample photos that look like this site (file names), most fitting first."""
    if site.district in PLATEAU:
        return [SNOW]
    return PHOTOS_BY_TYPE.get(site.site_type, [])


def _finding(
    rng, campaign, clock, inspection, site, item, found_at, inspector, leads, office, fitting
):
    severity = item.default_severity if rng.random() < 0.8 else rng.choice(["general", "key"])
    days = campaign.key_deadline_days if severity == "key" else campaign.general_deadline_days
    deadline = (found_at.astimezone(BEIJING) + timedelta(days=days)).date()
    fixed_on_spot = severity == "general" and rng.random() < 0.25
    finding = Finding(
        uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        campaign_id=campaign.id,
        site_id=site.id,
        item_id=item.id,
        district=site.district,
        description=_description(rng, site, item),
        severity=severity,
        major_hazard=severity == "key" and rng.random() < 0.2,
        requirement=_requirement(site, item, days, fixed_on_spot),
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

    def move(action, to_status, actor, note="", days_later=None, photos=()):
        """Record a move ``days_later`` after the last; False when the campaign was over."""
        nonlocal at
        if days_later is not None:
            when = clock.later(rng, at, days_later)
            if when is None:
                return False
            at = when
        finding.events.append(
            RectificationEvent(
                action=action,
                from_status=finding.status if action != "record" else None,
                to_status=to_status,
                actor_id=actor.id,
                at=at,
                note=note,
                photos=list(photos),
            )
        )
        finding.status = to_status
        finding.updated_at = at
        if to_status == "closed":
            finding.closed_at = at
        return True

    # The finding is made when it is found: the inspection's time (not the sync's).
    move("record", "open", inspector, "现场检查发现")
    evidence = fitting[-1:]
    submitted = "企业报送整改照片" if evidence else "企业报送整改材料"
    if fixed_on_spot:
        at = at + timedelta(minutes=rng.randint(10, 30))  # still within the inspection
        move("approve", "closed", inspector, "立行立改，现场整改完毕")
    else:
        fate = rng.random()
        if fate < 0.2:
            pass  # still open (overdue once its deadline has passed)
        elif fate < 0.4:
            move("start", "rectifying", inspector, "企业已着手整改", rng.uniform(1, 5))
        elif fate < 0.55:
            move("start", "rectifying", inspector, "企业已着手整改", rng.uniform(1, 5)) and move(
                "submit", "pending_review", inspector, submitted, rng.uniform(2, 10), evidence
            )
        elif fate < 0.62:
            move(
                "submit", "pending_review", inspector, submitted, rng.uniform(2, 8), evidence
            ) and move("reject", "rectifying", lead, "整改不到位，需重新整改", rng.uniform(1, 4))
        elif fate < 0.97:
            (
                move("start", "rectifying", inspector, "企业已着手整改", rng.uniform(1, 5))
                and move(
                    "submit", "pending_review", inspector, submitted, rng.uniform(2, 10), evidence
                )
                and move("approve", "closed", lead, "复查合格，予以销号", rng.uniform(1, 5))
                and rng.random() < 0.05
                and move("reopen", "rectifying", lead, "回头看发现问题反弹", rng.uniform(10, 30))
            )
        else:
            move("void", "voided", office, "录入重复，予以作废", rng.uniform(1, 3))
    finding.sync_seq = next_seq()
    db.session.flush()
    if severity == "key" and rng.random() < 0.3:
        when = clock.later(rng, found_at, 3)
        if when is not None:
            _enforce(rng, campaign, site, finding, lead, when)
    return finding


def _enforce(rng, campaign, site, finding, lead, at):
    # An illegal spot has no licence to revoke and no business to suspend.
    kinds = ["order_rectify", "fine", "fine", "refer_police"]
    if site.licences:
        kinds += ["suspend", "ban", "blacklist", "revoke_licence"]
    kind = rng.choice(kinds)
    db.session.add(
        Enforcement(
            campaign_id=campaign.id,
            site_id=site.id,
            finding_id=finding.id,
            kind=kind,
            fine_yuan=rng.choice([5000, 10000, 20000, 50000]) if kind == "fine" else None,
            note="",
            actor_id=lead.id,
            at=at,
        )
    )
