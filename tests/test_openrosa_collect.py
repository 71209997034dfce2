"""A week of work from ODK Collect, over a link that cuts requests and answers part-way.

One Collect, configured with an inspector's key, through a real server (gunicorn) behind
a proxy that breaks every distinct request once: half the body sent, or the answer cut
after the server did the work. Collect fetches the form list, each form (its bytes
checked against the listed md5), each manifest and ``sites.csv``; the inspector fills the
refined-oil form as it shows itself (the questions its relevance shows for the chosen
site's type, the failed items its filter offers for a finding, the severity the chosen
item presets) 50 times, with 200 photos (small real JPEGs, distinct bytes). Mid-week the
office registers a new site: the next form update fetches that campaign's ``sites.csv``
again and no form. Collect splits each submission at the server's
X-OpenRosa-Accept-Content-Length and sends a failed one again from its first post; ten
of the inspections are first sent as drafts and then edited (deprecatedID) into final
ones. Everything arrives exactly once: each inspection, answer, finding and photo once,
no photo still missing, every XML kept.
"""

import hashlib

from sqlalchemy import create_engine, func, select

from inspect_app.audit.models import AuditLog
from inspect_app.auth.models import User
from inspect_app.campaigns.models import Campaign, ChecklistItem, ChecklistVersion
from inspect_app.config import TestConfig
from inspect_app.extensions import db
from inspect_app.findings.models import Finding, FindingPhoto
from inspect_app.inspections.models import Answer, Inspection
from inspect_app.openrosa import keys
from inspect_app.openrosa.submission_models import FormAttachment, FormSubmission
from inspect_app.photos.models import Photo
from tests.conftest import PHOTOS
from tests.support.collect import Collect, photo_set
from tests.support.flaky import FlakyProxy
from tests.support.server import Server
from tests.support.xforms import FormError

INSPECTIONS = 50
PHOTOS_PER_FINDING = 2
DRAFTS_FIRST = 10
# Two of the ~27 KB photos per post: every submission is split in two.
ACCEPT = 60_000
TYPES = ("加油站", "加油站", "加油站", "油库")
SEVERITY_LABELS = {"key": "重点问题", "general": "一般问题"}


def refined_oil_items(app) -> dict[str, ChecklistItem]:
    with app.app_context():
        version = db.session.scalar(
            select(ChecklistVersion).join(Campaign).where(Campaign.code == "refined-oil-2025")
        )
        items = db.session.scalars(
            select(ChecklistItem)
            .where(ChecklistItem.checklist_version_id == version.id)
            .order_by(ChecklistItem.position)
        )
        return {item.code: item for item in items}


def fill(form, site: str, site_type: str, items, n: int, jpegs, final: bool):
    """One inspection filled as the inspector sees the form; (filling, expected)."""
    filling = form.start()
    filling.choose("检查对象", site)
    shown = filling.questions("检查项")
    # The form asks what the checklist checks at this kind of site, nothing else.
    assert shown == [i.text for i in items.values() if site_type in i.site_types]
    failed = [q for j, q in enumerate(shown) if (j - n) % len(shown) < 2]  # two of them
    for question in shown:
        filling.choose(question, "不合格" if question in failed else "合格")
    by_text = {i.text: i for i in items.values()}
    expected = {"answers": {by_text[q].code: q in failed for q in shown}, "findings": {}}
    for k, question in enumerate(failed):
        item = by_text[question]
        finding = filling.add("发现的问题")
        # A finding is about one of the failed items, no other.
        assert filling.choices("问题所属检查项", finding) == [
            f"{by_text[q].code} {q}" for q in failed
        ]
        filling.choose("问题所属检查项", item.code, finding)
        filling.answer("问题描述", f"第{n}次检查：{item.code} 不符合要求", finding)
        severity = item.default_severity
        if n % 7 == 0:  # the inspector overrides the item's preset
            severity = "key" if severity == "general" else "general"
            filling.choose("问题等级", SEVERITY_LABELS[severity], finding)
        filling.answer("整改要求", "限期整改到位", finding)
        for m in range(PHOTOS_PER_FINDING):
            photo = filling.add("问题照片", finding)
            index = (n * 2 + k) * PHOTOS_PER_FINDING + m
            filling.attach("拍照", f"{1715480000000 + index}.jpg", jpegs[index], photo)
        expected["findings"][item.code] = severity
    filling.choose("本次检查是否完成？", "检查完成，提交" if final else "保存为草稿，稍后继续")
    return filling, expected


def test_a_week_of_collect_work_arrives_exactly_once(
    app, database_url, media_dir, tmp_path, make_user, make_site
):
    user_id = make_user("collector", "inspector", ["东城区"])
    with app.app_context():
        key = keys.issue(db.session.get(User, user_id), None)
        db.session.commit()
    sites = {}
    for i, site_type in enumerate(TYPES * 2):
        name = f"国道沿线第{i}号{site_type}"
        sites[name] = (make_site(name=name, site_type=site_type), site_type)
    items = refined_oil_items(app)
    jpegs = photo_set(INSPECTIONS * 2 * PHOTOS_PER_FINDING, PHOTOS / "jolla.jpg")

    server = Server(database_url, media_dir, tmp_path / "instance")
    server.env["INSPECT_SECRET_KEY"] = TestConfig.SECRET_KEY
    # The server announces its photo limit as the largest post.
    server.env["INSPECT_MAX_PHOTO_BYTES"] = str(ACCEPT)
    sent, expected = {}, {}
    with server, FlakyProxy(server.port) as proxy:
        collect = Collect(f"http://127.0.0.1:{proxy.port}/openrosa/key/{key}")
        forms = collect.update_forms()
        assert len(forms) == 5 and collect.downloads == {"form": 5, "media": 5}
        form = collect.form("成品油")
        assert collect.downloads["form"] == 5
        for n in range(INSPECTIONS):
            if n == INSPECTIONS // 2:
                # The office registers a site; Collect's form update brings it.
                sites["格尔木新开业加油站"] = (make_site(name="格尔木新开业加油站"), "加油站")
                before = dict(collect.downloads)
                collect.update_forms()
                form = collect.form("成品油")
                assert collect.downloads["form"] == before["form"]
                assert collect.downloads["media"] > before["media"]
                assert "格尔木新开业加油站" in form.start().choices("检查对象")
            name = list(sites)[n % len(sites)] if n != INSPECTIONS - 1 else "格尔木新开业加油站"
            site_id, site_type = sites[name]
            draft = n < DRAFTS_FIRST
            filling, expected[n] = fill(form, name, site_type, items, n, jpegs, final=not draft)
            xml, files = filling.finalize()
            versions = [xml]
            if draft:
                filling.choose("本次检查是否完成？", "检查完成，提交")
                edit, files = filling.finalize(deprecated=filling.instance_id)
                versions.append(edit)
            shown = ["已保存为草稿", "检查记录已提交"] if draft else ["检查记录已提交"]
            for version, message in zip(versions, shown, strict=True):
                assert message.encode() in collect.submit(version, files)
            sent[filling.instance_id] = (site_id, versions[0], n)

        # A form with a required question unanswered is not finalized, as in Collect.
        unfinished = form.start()
        unfinished.choose("检查对象", list(sites)[0])
        try:
            unfinished.finalize()
            raise AssertionError("an unanswered form was finalized")
        except FormError as refused:
            assert "检查完成前须填写每一个检查项" not in str(refused)  # not asked yet
            assert "本次检查是否完成？" in str(refused)

    assert collect.submissions == INSPECTIONS + DRAFTS_FIRST and collect.largest_split == 2
    assert proxy.cuts["request"] > 30 and proxy.cuts["response"] > 30
    # Every cut cost a request again: a download, a probe or a whole submission.
    assert collect.network_failures >= proxy.cuts["request"] + proxy.cuts["response"] - 5
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
        code_of = {item.id: code for code, item in items.items()}
        for instance, (site_id, _, n) in sent.items():
            inspection = connection.execute(
                select(Inspection.id, Inspection.site_id).where(Inspection.uuid == instance)
            ).one()
            assert inspection.site_id == site_id
            answers = {
                code_of[item]: result == "fail"
                for item, result in connection.execute(
                    select(Answer.item_id, Answer.result).where(
                        Answer.inspection_id == inspection.id
                    )
                )
            }
            assert answers == expected[n]["answers"]
            findings = {
                code_of[item]: severity
                for item, severity in connection.execute(
                    select(Finding.item_id, Finding.severity).where(
                        Finding.inspection_id == inspection.id
                    )
                )
            }
            assert findings == expected[n]["findings"]
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
    assert {instance: kept[instance] for instance in sent} == {
        instance: xml for instance, (_, xml, _) in sent.items()
    }
    originals = {p.name: p for p in (media_dir / "originals").rglob("*") if p.is_file()}
    assert set(originals) == named
