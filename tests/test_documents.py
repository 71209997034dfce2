"""PDF downloads through the API: right to the last finding, checked with real PDF tools.

Small documents come back at once; large campaign documents become background jobs,
in-process by default and on Redis (RQ) with ``inspect-app worker`` when configured.
"""

import hashlib
import os
import subprocess
import time
import uuid

import pytest
import redis

from reports import pdfcheck
from tests.conftest import PHOTOS
from tests.helpers import assert_error
from tests.support.server import BIN

REDIS_URL = os.environ.get("INSPECT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def east(make_user, login):
    make_user("east", "inspector", ["东城区"])
    return login("east")


@pytest.fixture
def lead(make_user, login):
    make_user("lead", "team_lead", ["东城区", "西城区"])
    return login("lead")


def upload(client, headers, name):
    data = (PHOTOS / name).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    response = client.put(
        f"/api/v1/photos/{sha}", data=data, headers={**headers, "Content-Type": "image/jpeg"}
    )
    assert response.status_code in (200, 201)
    return sha


def record(client, headers, checklist, site, descriptions, photo=None):
    plain = checklist["plain"]
    findings = [
        {
            "id": str(uuid.uuid4()),
            "item_code": plain[i % len(plain)],
            "description": text,
            "severity": "key" if i % 2 else "general",
            "requirement": "限期整改并报送整改照片",
            "photos": [photo] if photo else [],
        }
        for i, text in enumerate(descriptions)
    ]
    body = {
        "campaign": checklist["campaign"],
        "checklist_version": checklist["version"],
        "site_id": site,
        "started_at": "2025-05-12T09:30:00+08:00",
        "finished_at": "2025-05-12T10:05:00+08:00",
        "answers": [],
        "findings": findings,
        "final": True,
    }
    response = client.put(f"/api/v1/inspections/{uuid.uuid4()}", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()


def save(response, tmp_path, name="out.pdf"):
    path = tmp_path / name
    path.write_bytes(response.data)
    response.close()
    return path


def test_site_problem_list_pdf_has_every_finding(client, east, checklist, make_site, tmp_path):
    site = make_site(name="格尔木昆仑路加油站", credit_code="91350100M000100Y43")
    photo = upload(client, east, "DSCN0010.jpg")
    descriptions = [
        "未取得成品油零售经营批准证书擅自销售柴油",
        "油罐区未设置静电接地装置",
        "购销台账缺失三个月",
    ]
    record(client, east, checklist, site, descriptions, photo)
    response = client.get(
        f"/api/v1/sites/{site}/problem-list.pdf?campaign={checklist['campaign']}", headers=east
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    path = save(response, tmp_path)
    pdfcheck.qpdf_check(path)
    assert all(font.embedded for font in pdfcheck.fonts(path))
    text = pdfcheck.squeeze(pdfcheck.text(path))
    for needle in [
        *descriptions,
        "格尔木昆仑路加油站",
        "91350100M000100Y43",
        "格政办发〔2025〕30号",
        "第1页共",
    ]:
        assert needle in text, needle
    assert pdfcheck.images(path), "the finding's photo is in the PDF"


def test_site_problem_list_cites_the_clause_readably(client, east, make_site, tmp_path):
    site = make_site(name="格尔木昆仑化工有限公司", site_type="危险化学品企业")
    body = {
        "campaign": "hazchem-2025",
        "checklist_version": 1,
        "site_id": site,
        "started_at": "2025-05-12T09:30:00+08:00",
        "answers": [],
        "findings": [
            {
                "id": str(uuid.uuid4()),
                "item_code": "HC-68",  # clause 二（三）14三是
                "description": "近一年未组织自然灾害应急演练",
                "severity": "general",
                "requirement": "限期组织演练",
            }
        ],
        "final": True,
    }
    response = client.put(f"/api/v1/inspections/{uuid.uuid4()}", json=body, headers=east)
    assert response.status_code == 201, response.get_json()
    url = f"/api/v1/sites/{site}/problem-list.pdf?campaign=hazchem-2025"
    response = client.get(url, headers=east)
    text = pdfcheck.squeeze(pdfcheck.text(save(response, tmp_path)))
    # the 依据 column: 二（三）第14项 三是 and the clause's words, not "二（三）14三是"
    assert "二（三）第14项三是强化企业应急能力培训演练" in text
    assert "二（三）14三是" not in text


def test_site_problem_list_of_other_district_is_404(client, east, checklist, make_site):
    west = make_site(name="西城站", district="西城区")
    response = client.get(
        f"/api/v1/sites/{west}/problem-list.pdf?campaign={checklist['campaign']}", headers=east
    )
    assert_error(response, 404, "not_found")


def test_campaign_documents_are_for_team_leads_and_office(client, east, checklist):
    response = client.get(
        f"/api/v1/campaigns/{checklist['campaign']}/problem-list.pdf", headers=east
    )
    assert_error(response, 403, "forbidden")


def test_campaign_problem_list_and_report_made_at_once_when_small(
    client, east, lead, checklist, make_site, tmp_path
):
    site_a = make_site(name="东城一号加油站")
    site_b = make_site(name="西城二号加油站", district="西城区")
    record(
        client, east, checklist, site_a, ["东城问题甲：消防器材过期", "东城问题乙：未设警示标志"]
    )
    record(client, lead, checklist, site_b, ["西城问题丙：储油罐无防渗措施"])
    code = checklist["campaign"]
    path = save(client.get(f"/api/v1/campaigns/{code}/problem-list.pdf", headers=lead), tmp_path)
    text = pdfcheck.squeeze(pdfcheck.text(path))
    for needle in [
        "东城问题甲：消防器材过期",
        "东城问题乙：未设警示标志",
        "西城问题丙：储油罐无防渗措施",
        "东城区",
        "西城区",
    ]:
        assert needle in text
    only_west = save(
        client.get(f"/api/v1/campaigns/{code}/problem-list.pdf?district=西城区", headers=lead),
        tmp_path,
        "w.pdf",
    )
    west_text = pdfcheck.squeeze(pdfcheck.text(only_west))
    assert "西城问题丙" in west_text and "东城问题甲" not in west_text
    report = save(
        client.get(f"/api/v1/campaigns/{code}/rectification-report.pdf", headers=lead),
        tmp_path,
        "r.pdf",
    )
    pdfcheck.qpdf_check(report)
    # The report's figures are the statistics endpoint's, to the last finding.
    stats = client.get(f"/api/v1/campaigns/{code}/stats?group_by=district", headers=lead)
    figures = stats.get_json()["figures"]
    report_text = pdfcheck.squeeze(pdfcheck.text(report))
    assert figures["findings"] == 3
    assert f"发现问题{figures['findings']}项" in report_text
    assert f"检查场所{figures['sites_inspected']}家" in report_text
    west_report = save(
        client.get(
            f"/api/v1/campaigns/{code}/rectification-report.pdf?district=西城区", headers=lead
        ),
        tmp_path,
        "rw.pdf",
    )
    assert "发现问题1项" in pdfcheck.squeeze(pdfcheck.text(west_report))
    bad = client.get(f"/api/v1/campaigns/{code}/problem-list.pdf?status=finished", headers=lead)
    assert_error(bad, 422, "validation_error")


def poll(client, headers, url, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(url, headers=headers).get_json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise TimeoutError(job)


def test_large_campaign_list_is_a_background_job(
    app, client, east, lead, checklist, make_site, tmp_path
):
    app.config["REPORT_SYNC_MAX_FINDINGS"] = 2
    site = make_site()
    descriptions = [f"第{i}号问题：现场检查发现隐患" for i in range(5)]
    record(client, east, checklist, site, descriptions)
    response = client.get(
        f"/api/v1/campaigns/{checklist['campaign']}/problem-list.pdf", headers=lead
    )
    assert response.status_code == 202
    job = response.get_json()
    assert response.headers["Location"] == job["url"]
    done = poll(client, lead, job["url"])
    assert done["status"] == "done" and done["pages"] >= 1
    path = save(client.get(done["download_url"], headers=lead), tmp_path)
    text = pdfcheck.squeeze(pdfcheck.text(path))
    assert all(d in text for d in descriptions)
    # Someone outside the job's scope does not see it.
    assert_error(client.get(job["url"], headers=east), 404, "not_found")


def test_identical_requests_share_the_running_job(app, client, east, lead, checklist, make_site):
    from inspect_app.documents import jobs
    from inspect_app.extensions import db

    app.config.update(REPORT_SYNC_MAX_FINDINGS=-1, REPORT_JOB_RUNNER="manual")
    record(client, east, checklist, make_site(), ["需要后台生成的问题"])
    url = f"/api/v1/campaigns/{checklist['campaign']}/problem-list.pdf"
    first = client.get(url, headers=lead).get_json()
    second = client.get(url, headers=lead).get_json()
    other = client.get(url + "?district=西城区", headers=lead).get_json()
    assert first["id"] == second["id"] != other["id"]
    not_yet = client.get(first["download_url"] or f"{first['url']}/file", headers=lead)
    assert_error(not_yet, 409, "conflict")
    with app.app_context():
        jobs.execute(first["id"])
        db.session.remove()
    assert client.get(first["url"], headers=lead).get_json()["status"] == "done"
    third = client.get(url, headers=lead).get_json()
    assert third["id"] != first["id"]  # a finished job is not reused: the data may have moved on


def test_jobs_go_through_redis_to_an_inspect_app_worker(
    app, client, east, lead, checklist, make_site, tmp_path, database_url, media_dir
):
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis not reachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    queue = f"inspect-test-{uuid.uuid4().hex[:8]}"
    app.config.update(REPORT_SYNC_MAX_FINDINGS=0, REDIS_URL=REDIS_URL, REPORT_QUEUE=queue)
    record(client, east, checklist, make_site(), ["经由 Redis 队列生成的问题清单"])
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("INSPECT_")},
        "INSPECT_DATABASE_URL": database_url,
        "INSPECT_MEDIA_DIR": str(media_dir),
        "INSPECT_INSTANCE_DIR": str(tmp_path / "instance"),
        "INSPECT_REDIS_URL": REDIS_URL,
    }
    worker = subprocess.Popen(
        [str(BIN), "worker", "--queue", queue],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        job = client.get(
            f"/api/v1/campaigns/{checklist['campaign']}/problem-list.pdf", headers=lead
        ).get_json()
        done = poll(client, lead, job["url"], timeout=90)
        assert done["status"] == "done", done
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        redis.Redis.from_url(REDIS_URL).delete(f"rq:queue:{queue}")
    path = save(client.get(done["download_url"], headers=lead), tmp_path)
    assert "经由Redis队列生成的问题清单" in pdfcheck.squeeze(pdfcheck.text(path))
