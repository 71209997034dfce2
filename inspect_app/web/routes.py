"""The campaign office's dashboard (整改仪表板): server-rendered pages under /dashboard.

For the 专项办 and team leads (组长): an overview of every campaign, each campaign's
rates by district and department with a weekly trend, the overdue list, a site's
findings with photos and history (and the review of a reported rectification), and
the downloads (PDF 问题清单, rectification report, spreadsheets). The same services
as the API do the work, with the same scope and rules; these views only read forms
and render templates.
"""

import re
from datetime import UTC, datetime
from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from inspect_app.assignments import revisits
from inspect_app.assignments import services as assignments
from inspect_app.campaigns import draft_services as drafts
from inspect_app.campaigns.draft_routes import yaml_file
from inspect_app.campaigns.notice_pdf import looks_like_pdf, notice_text
from inspect_app.campaigns.services import campaign_by_code, list_campaigns
from inspect_app.documents import jobs
from inspect_app.documents.routes import send_job_file, send_pdf_now
from inspect_app.domain import (
    FINDING_STATUS_LABELS,
    FINDING_STATUSES,
    ROLE_LABELS,
    SEVERITIES,
    SEVERITY_LABELS,
    SHANGHAI,
    SITE_TYPES,
    today_shanghai,
)
from inspect_app.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthorized,
    add_error_page,
)
from inspect_app.escalation import services as escalation
from inspect_app.extensions import db
from inspect_app.findings import lifecycle
from inspect_app.findings import services as findings
from inspect_app.photos import services as photos
from inspect_app.scope import covered_districts, narrowed, scope_name
from inspect_app.sites.services import visible_site
from inspect_app.stats import services as stats
from inspect_app.stats.routes import send_problem_list_workbook, send_stats_workbook
from inspect_app.web import charts, queries
from inspect_app.web.session import (
    CsrfFailure,
    check_csrf,
    csrf_token,
    load_user,
    log_in,
    log_out,
    login_required,
    safe_next,
)

bp = Blueprint(
    "web",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

MAX_NOTE = 2000  # as the API's event note
SORT_LABELS = {
    "deadline": "整改时限",
    "overdue_days": "逾期天数",
    "district": "区域",
    "site": "站点",
    "department": "责任单位",
    "severity": "问题等级",
}


# ---------------------------------------------------------------------------
# Page plumbing: CSRF on every POST, HTML error pages, template helpers


@bp.before_request
def _csrf():
    if request.method == "POST":
        check_csrf()


@bp.after_request
def _no_store(response):
    # Pages show who is logged in and live figures: never from a shared cache.
    response.headers.setdefault("Cache-Control", "private, no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


@bp.errorhandler(CsrfFailure)
def _csrf_failed(_error):
    return _error_page(
        400, "页面已过期", "表单已失效（可能在另一个窗口退出或重新登录过），请返回刷新后重试。"
    )


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    response = error_page(error.status, error.message)
    response.headers.update(error.headers)
    return response


ERROR_TITLES = {
    400: "请求有误",
    403: "没有权限",
    404: "未找到",
    405: "请求有误",
    409: "操作冲突",
    413: "提交内容过大",
    422: "填写有误",
    429: "请稍后再试",
    500: "服务器出错",
}


@bp.record_once
def _answer_errors_with_pages(state) -> None:
    add_error_page(state.app, "/dashboard/", error_page)


def error_page(status: int, message: str):
    """An error of a dashboard page, as a page (also for routing errors, see errors.py)."""
    return _error_page(status, ERROR_TITLES.get(status, "请求有误"), message)


def _error_page(status: int, title: str, message: str):
    if "current_user" not in g and status < 500:
        # An address no view answers (404, 405) ran no login_required: a logged-in user
        # still gets the navigation and the way home. Not after a 500: the database
        # session may be what failed.
        g.current_user = load_user()
    # Outside the blueprint's routes (an unknown address) its context processor does not run.
    page = render_template("web/error.html", title=title, message=message, **_helpers())
    response = current_app.response_class(page, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.app_template_filter("local_date")
def _local_date(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).strftime("%Y-%m-%d")
    return value.strftime("%Y-%m-%d")


@bp.app_template_filter("local_time")
def _local_time(value) -> str:
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


@bp.app_template_filter("percent")
def _percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@bp.context_processor
def _helpers():
    return {
        "csrf_token": csrf_token,
        "current_user": g.get("current_user"),
        "role_labels": ROLE_LABELS,
        "status_labels": FINDING_STATUS_LABELS,
        "severity_labels": SEVERITY_LABELS,
        "action_labels": lifecycle.ACTION_LABELS,
    }


# ---------------------------------------------------------------------------
# Login and logout


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; on success, to the page asked for (or the overview)."""
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("web/login.html", next_url=next_url, username="")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    if not username or not password:
        return _login_failed(next_url, username, "请输入用户名和密码", 422)
    try:
        log_in(username, password)
    except (Unauthorized, RateLimited) as error:
        response = _login_failed(next_url, username, error.message, error.status)
        response.headers.update(error.headers)
        return response
    return redirect(next_url)


def _login_failed(next_url: str, username: str, message: str, status: int):
    page = render_template("web/login.html", next_url=next_url, username=username, error=message)
    return current_app.response_class(page, status=status, mimetype="text/html")


@bp.route("/logout", methods=["POST"])
def logout():
    """End the session and revoke its token."""
    log_out()
    flash("已退出登录", "status")
    return redirect(url_for("web.login"))


# ---------------------------------------------------------------------------
# Overview, campaign, overdue list


@bp.route("/")
@login_required
def overview():
    """Every campaign the user may see: found, rectified, rate, overdue."""
    today = today_shanghai()
    cards = queries.campaigns_overview(g.current_user, today)
    scope = scope_name(covered_districts(g.current_user))
    return render_template("web/overview.html", cards=cards, today=today, scope=scope)


def _district_arg(user) -> str | None:
    """The page's district filter; 403 outside the user's districts, as in the API."""
    district = request.args.get("district") or None
    if district is not None:
        covered_districts(user, district)
    return district


@bp.route("/campaigns/<code>")
@login_required
def campaign(code):
    """One campaign: figures, rates by district and department, weekly trend, downloads."""
    user = g.current_user
    campaign = campaign_by_code(code)
    district = _district_arg(user)
    scoped = narrowed(user, district)
    by_district = stats.campaign_stats(scoped, campaign, "district")
    by_department = stats.campaign_stats(scoped, campaign, "department")
    trend = queries.weekly_trend(scoped, campaign.id)
    return render_template(
        "web/campaign.html",
        campaign=campaign,
        district=district,
        scope=by_district["scope"],
        districts=queries.visible_districts(user),
        by_district=by_district,
        by_department=by_department,
        district_chart=charts.rate_bars(by_district["rows"]),
        department_chart=charts.rate_bars(by_department["rows"]),
        trend=trend,
        trend_geometry=charts.weekly_columns(trend),
    )


@bp.route("/campaigns/<code>/overdue")
@login_required
def overdue(code):
    """Overdue findings of a campaign, sortable and filterable."""
    user = g.current_user
    campaign = campaign_by_code(code)
    district = _district_arg(user)
    department = request.args.get("department") or None
    severity = request.args.get("severity") or None
    if severity is not None and severity not in SEVERITIES:
        raise Invalid("问题等级只能是一般或重点")
    sort = request.args.get("sort", "overdue_days")
    if sort not in queries.OVERDUE_SORTS:
        sort = "overdue_days"
    order = "asc" if request.args.get("order") == "asc" else "desc"
    if "order" not in request.args:
        order = "desc" if sort == "overdue_days" else "asc"
    try:
        page = max(1, min(int(request.args.get("page", "1")), 100_000))
    except ValueError:
        page = 1
    today = today_shanghai()
    rows, total = queries.overdue_findings(
        user,
        campaign.id,
        today,
        district=district,
        department=department,
        severity=severity,
        sort=sort,
        descending=order == "desc",
        page=page,
    )
    filters = {"district": district, "department": department, "severity": severity}
    return render_template(
        "web/overdue.html",
        campaign=campaign,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // queries.OVERDUE_PAGE)),
        sort=sort,
        order=order,
        filters=filters,
        active_filters={k: v for k, v in filters.items() if v},
        districts=queries.visible_districts(user),
        departments=queries.departments(user, campaign.id),
        sort_labels=SORT_LABELS,
        today=today,
    )


@bp.route("/campaigns/<code>/coverage")
@login_required
def coverage(code):
    """Coverage of a stage (sites assigned, inspected, not yet) and 回头看 relapse rates."""
    user = g.current_user
    if user.role not in assignments.ASSIGNERS:
        raise Forbidden("只有组长或专项办可以查看检查覆盖情况")
    campaign = campaign_by_code(code)
    return render_template(
        "web/coverage.html",
        campaign=campaign,
        coverage=assignments.coverage(user, code, request.args.get("stage") or None),
        relapse=revisits.relapse(user, code),
        scope=scope_name(covered_districts(user)),
    )


@bp.route("/reminders")
@login_required
def reminders():
    """The user's reminders: deadlines coming, passed, and findings under 挂牌督办."""
    return render_template(
        "web/reminders.html", reminders=escalation.reminders_of(g.current_user)["items"]
    )


# ---------------------------------------------------------------------------
# Sites and findings


@bp.route("/findings/<int:finding_id>")
@login_required
def finding(finding_id):
    """A finding is shown on its site's page."""
    found = findings.visible_finding(g.current_user, str(finding_id))
    return redirect(url_for("web.site", site_id=found.site_id) + f"#finding-{found.id}")


@bp.route("/sites")
@login_required
def sites():
    """Find a site by name (at the gate): its open and overdue findings at a glance."""
    user = g.current_user
    name = request.args.get("q", "").replace("\x00", "").strip()[:100] or None
    district = _district_arg(user)
    rows = queries.site_list(user, today_shanghai(), name=name, district=district)
    more = len(rows) > queries.SITE_LIST_LIMIT
    return render_template(
        "web/sites.html",
        rows=rows[: queries.SITE_LIST_LIMIT],
        more=more,
        name=name or "",
        district=district,
        districts=queries.visible_districts(user),
    )


@bp.route("/sites/<int:site_id>")
@login_required
def site(site_id):
    """A site: its details, and each finding with status, deadline, photos and history."""
    user = g.current_user
    site = visible_site(site_id, user)
    campaign_code = request.args.get("campaign") or None
    groups = queries.site_findings(user, site, campaign_code)
    today = today_shanghai()
    return render_template(
        "web/site.html",
        site=site,
        groups=groups,
        campaign_code=campaign_code,
        today=today,
        may_review=user.role in lifecycle.REVIEWERS,
        notices=finding_notices(),
        notice_anchor=notice_anchor,
    )


# A form about one finding answers next to that finding, not at the top of the page the
# user was sent back to: its outcome goes into the session as a flash message whose
# category names the finding, the site page puts it where the form is (role alert or
# status, focused), and the redirect's anchor scrolls there.
FINDING_NOTICE = re.compile(r"(alert|status|note):finding-(\d+)")


def tell_about_finding(finding_id: int, kind: str, message: str) -> None:
    """Keep the outcome of a form about a finding for the page it comes back to."""
    flash(message, f"{kind}:finding-{finding_id}")


def finding_notices() -> dict[int, dict]:
    """The outcomes kept for this page, by finding: {kind, message, note}."""
    notices: dict[int, dict] = {}
    for category, message in get_flashed_messages(with_categories=True):
        matched = FINDING_NOTICE.fullmatch(category)
        if matched:
            kind, finding_id = matched.group(1), int(matched.group(2))
            notices.setdefault(finding_id, {"kind": None, "message": "", "note": ""})
            if kind == "note":
                notices[finding_id]["note"] = message
            else:
                notices[finding_id].update(kind=kind, message=message)
    return notices


def notice_anchor(finding_id: int) -> str:
    return f"finding-{finding_id}-notice"


@bp.route("/findings/<int:finding_id>/review", methods=["POST"])
@login_required
def review(finding_id):
    """Approve (销号) or reject a reported rectification, with the API's rules."""
    user = g.current_user
    found = findings.visible_finding(user, str(finding_id), for_update=True)
    campaign_code = request.form.get("campaign") or None
    back = (
        url_for("web.site", site_id=found.site_id, campaign=campaign_code)
        + f"#{notice_anchor(found.id)}"
    )
    action = request.form.get("action", "")
    note = request.form.get("note", "").strip()
    move = lifecycle.MOVES.get(action) if action in ("approve", "reject") else None
    problem = None
    if move is None:
        problem = "请选择通过复查或退回整改"
    elif len(note) > MAX_NOTE:
        problem = f"复查意见不能超过 {MAX_NOTE} 字"
    elif move.note_required and not note:
        problem = "退回整改需填写复查意见，说明还需整改的内容"
    if problem is None:
        try:
            findings.apply_event(user, found, {"action": action, "note": note})
        except (Forbidden, Conflict) as error:
            # Someone reviewed it first, or the role may not: nothing is changed.
            db.session.rollback()
            problem = error.message
    if problem is not None:
        tell_about_finding(found.id, "alert", problem)
        if note:
            tell_about_finding(found.id, "note", note[:MAX_NOTE])  # not typed again
        return redirect(back)
    done = "已通过复查，问题已销号" if action == "approve" else "已退回整改"
    tell_about_finding(found.id, "status", done)
    return redirect(back)


def favicon():
    """The dashboard's icon at the root address, where browsers ask for it by themselves."""
    return send_file(
        Path(bp.static_folder) / "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=86400
    )


bp.record_once(lambda state: state.app.add_url_rule("/favicon.ico", "favicon", favicon))


@bp.route("/photos/<sha256>")
@login_required
def photo(sha256):
    """A photo in a size for the page (thumb) or for reading (report)."""
    variant = request.args.get("variant", "thumb")
    if variant not in ("thumb", "report") or len(sha256) != 64:
        raise NotFound("照片不存在")
    record = photos.visible_photo(g.current_user, sha256.lower())
    path = photos.media_store().path(record.sha256, variant)
    if not path.is_file():
        raise NotFound("照片文件缺失")
    response = send_file(path, mimetype="image/jpeg", conditional=True, max_age=86400)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


# ---------------------------------------------------------------------------
# Downloads: the same documents as the API, with the filters of the page


@bp.route("/sites/<int:site_id>/problem-list.pdf")
@login_required
def site_problem_list(site_id):
    """The site's 问题清单 in one campaign."""
    site = visible_site(site_id, g.current_user)
    code = campaign_by_code(request.args.get("campaign", "")).code
    params = {"site_id": site.id, "campaign": code}
    if jobs.in_background(g.current_user, "site_problem_list", params):
        job, _new = jobs.submit(g.current_user, "site_problem_list", params)
        return redirect(url_for("web.job", job_id=job.id))
    return send_pdf_now("site_problem_list", params)


def _statuses() -> list[str]:
    statuses = sorted(set(filter(None, request.args.get("status", "").split(","))))
    if any(s not in FINDING_STATUSES for s in statuses):
        raise Invalid("状态筛选有误")
    return statuses


@bp.route("/campaigns/<code>/problem-list.pdf")
@login_required
def campaign_problem_list(code):
    """The campaign's 问题清单, of one district if the page was filtered."""
    user = g.current_user
    campaign = campaign_by_code(code)
    district = _district_arg(user)
    statuses = _statuses()
    params = {"campaign": campaign.code, "district": district, "statuses": statuses}
    if jobs.in_background(user, "campaign_problem_list", params):
        job, _new = jobs.submit(user, "campaign_problem_list", params)
        return redirect(url_for("web.job", job_id=job.id))
    return send_pdf_now("campaign_problem_list", params)


@bp.route("/campaigns/<code>/rectification-report.pdf")
@login_required
def rectification_report(code):
    """The rectification status report (整改情况报告)."""
    user = g.current_user
    campaign = campaign_by_code(code)
    district = _district_arg(user)
    params = {"campaign": campaign.code, "district": district}
    if jobs.in_background(user, "rectification_report", params):
        job, _new = jobs.submit(user, "rectification_report", params)
        return redirect(url_for("web.job", job_id=job.id))
    return send_pdf_now("rectification_report", params)


@bp.route("/campaigns/<code>/stats.xlsx")
@login_required
def stats_xlsx(code):
    """整改情况统计表 by district (or by department), within the page's district filter."""
    user = g.current_user
    campaign = campaign_by_code(code)
    district = _district_arg(user)
    group_by = request.args.get("group_by", "district")
    if group_by not in stats.GROUPINGS:
        raise Invalid("统计分组有误")
    return send_stats_workbook(user, campaign, group_by, district)


@bp.route("/campaigns/<code>/findings.xlsx")
@login_required
def findings_xlsx(code):
    """The 问题清单 as a spreadsheet, with the page's filters (district, overdue, …)."""
    user = g.current_user
    campaign = campaign_by_code(code)
    filters = {
        "district": _district_arg(user),
        "department": request.args.get("department") or None,
        "severity": request.args.get("severity") or None,
        "overdue": True if request.args.get("overdue") == "true" else None,
        "status": _statuses() or None,
    }
    if filters["severity"] is not None and filters["severity"] not in SEVERITIES:
        raise Invalid("问题等级只能是一般或重点")
    filters = {k: v for k, v in filters.items() if v is not None}
    return send_problem_list_workbook(user, campaign, filters)


@bp.route("/jobs/<job_id>")
@login_required
def job(job_id):
    """A large document being made in the background; the page refreshes itself."""
    found = jobs.visible_job(g.current_user, job_id)
    return render_template("web/job.html", job=jobs.job_view(found))


@bp.route("/jobs/<job_id>/file")
@login_required
def job_file(job_id):
    """The finished document of a background job."""
    found = jobs.visible_job(g.current_user, job_id)
    if found.status != "done":
        raise NotFound("报表尚未生成或已不存在，请重新生成")
    return send_job_file(found)


# ---------------------------------------------------------------------------
# Checklist drafts (检查清单草稿): the office turns a notice into a published checklist


@bp.route("/drafts")
@login_required
def drafts_page():
    """Upload a notice (PDF or text); the drafts made so far."""
    drafts.require_office(g.current_user)
    return _drafts_page()


def _drafts_page(error: str | None = None, status: int = 200, form=None):
    page = render_template(
        "web/drafts.html",
        drafts=drafts.list_drafts(g.current_user),
        campaigns=list_campaigns(),
        error=error,
        form=form or {},
    )
    return current_app.response_class(page, status=status, mimetype="text/html")


@bp.route("/drafts", methods=["POST"])
@login_required
def draft_upload():
    """Make a draft from the uploaded notice PDF or the pasted text."""
    user = g.current_user
    drafts.require_office(user)
    form = {k: request.form.get(k, "") for k in ("campaign", "prefix", "text")}
    upload = request.files.get("notice")
    try:
        if upload is not None and upload.filename:
            data = upload.read()
            kind = "application/pdf" if looks_like_pdf(data) else "text/plain"
            if upload.filename.lower().endswith(".pdf"):
                kind = "application/pdf"
            text, source = notice_text(data, kind), upload.filename
        elif form["text"].strip():
            text, source = form["text"], "粘贴的通知全文"
        else:
            raise Invalid("请选择通知的 PDF 文件，或粘贴通知全文")
        draft = drafts.create_draft(user, text, form["campaign"], form["prefix"], source)
    except DomainError as error:
        db.session.rollback()
        return _drafts_page(error.message, error.status, form)
    flash(f"已生成草稿：{len(draft.items)} 个检查项，请逐项核对后发布", "status")
    return redirect(url_for("web.draft_page", draft_id=draft.id))


@bp.route("/campaigns/<code>/drafts", methods=["POST"])
@login_required
def draft_from_version(code):
    """Start a draft from the campaign's current version (to change it without a notice)."""
    draft = drafts.create_draft_from_version(g.current_user, code)
    flash(f"已从{draft.source_name}建立草稿", "status")
    return redirect(url_for("web.draft_page", draft_id=draft.id))


@bp.route("/drafts/<int:draft_id>")
@login_required
def draft_page(draft_id):
    """The draft: each item editable, beside the notice clause it came from."""
    draft = drafts.get_draft(g.current_user, draft_id)
    current = drafts.current_of(draft.campaign_code)
    return render_template(
        "web/draft.html",
        draft=draft,
        current=current,
        site_types=SITE_TYPES,
        severities=SEVERITIES,
    )


def _back_to(draft_id: int, item=None):
    anchor = f"#item-{item}" if item else ""
    return redirect(url_for("web.draft_page", draft_id=draft_id) + anchor)


def _item_form() -> dict:
    return {
        "text": request.form.get("text", ""),
        "lead_department": request.form.get("lead_department", ""),
        "site_types": request.form.getlist("site_types"),
        "default_severity": request.form.get("default_severity", "general"),
        "photo_required": request.form.get("photo_required") == "1",
    }


@bp.route("/drafts/<int:draft_id>/items/<int:item_id>", methods=["POST"])
@login_required
def draft_item(draft_id, item_id):
    """Save, delete, move or merge-with-next one item of the draft."""
    user = g.current_user
    draft = drafts.get_draft(user, draft_id, for_update=True)
    action = request.form.get("action", "save")
    ids = [i.id for i in draft.items]
    if item_id not in ids:
        raise NotFound("草稿中没有该检查项")
    index = ids.index(item_id)
    try:
        if action == "save":
            item = drafts.update_item(user, draft, item_id, _item_form())
            message = f"已保存 {item.code}"
        elif action == "delete":
            code = draft.items[index].code
            drafts.delete_item(user, draft, item_id)
            message = f"已删除 {code}"
            item_id = (
                ids[index + 1] if index + 1 < len(ids) else (ids[index - 1] if index else None)
            )
        elif action in ("up", "down"):
            code = draft.items[index].code
            position = index + (0 if action == "up" else 2)
            if 1 <= position <= len(ids):
                drafts.move_item(user, draft, item_id, position)
            message = f"已移动 {code}"
        elif action == "merge_next":
            if index + 1 >= len(ids):
                raise Invalid("这是最后一项，没有下一项可合并")
            item = drafts.merge_items(user, draft, item_id, ids[index + 1])
            message = f"已将下一项并入 {item.code}，请检查合并后的问题表述"
        else:
            raise Invalid("未知的操作")
    except (Invalid, NotFound) as error:
        db.session.rollback()
        flash(error.message, "alert")
        return _back_to(draft_id, item_id)
    flash(message, "status")
    return _back_to(draft_id, item_id)


@bp.route("/drafts/<int:draft_id>/items", methods=["POST"])
@login_required
def draft_add_item(draft_id):
    """Add an item at the end of the draft."""
    user = g.current_user
    draft = drafts.get_draft(user, draft_id, for_update=True)
    data = _item_form()
    data["basis"] = request.form.get("basis", "")
    try:
        item = drafts.add_item(user, draft, data)
    except Invalid as error:
        db.session.rollback()
        flash(f"未能添加检查项：{error.message}", "alert")
        return redirect(url_for("web.draft_page", draft_id=draft_id) + "#add")
    flash(f"已添加 {item.code}", "status")
    return _back_to(draft_id, item.id)


@bp.route("/drafts/<int:draft_id>/publish")
@login_required
def draft_confirm(draft_id):
    """Before publishing: what the new version adds, changes and withdraws."""
    user = g.current_user
    draft = drafts.get_draft(user, draft_id)
    return render_template(
        "web/draft_publish.html", draft=draft, diff=drafts.draft_diff(user, draft)
    )


@bp.route("/drafts/<int:draft_id>/publish", methods=["POST"])
@login_required
def draft_publish(draft_id):
    """Publish the draft against the version its difference was shown for."""
    user = g.current_user
    draft = drafts.get_draft(user, draft_id)
    raw = request.form.get("base_version", "")
    base = int(raw) if raw.isdigit() and len(raw) < 10 else None
    try:
        result = drafts.publish_draft(user, draft, base, request.remote_addr)
    except (Conflict, Invalid) as error:
        db.session.rollback()
        flash(error.message, "alert")
        return redirect(url_for("web.draft_confirm", draft_id=draft_id))
    flash(f"已发布第 {result['version']} 版检查清单，检查员的手机同步后即使用新版本", "status")
    return redirect(url_for("web.draft_page", draft_id=draft_id))


@bp.route("/drafts/<int:draft_id>/checklist.yaml")
@login_required
def draft_yaml(draft_id):
    """The draft as a checklist file (read by inspect-app checklists load)."""
    draft = drafts.get_draft(g.current_user, draft_id)
    return yaml_file(drafts.draft_yaml(draft), f"{draft.campaign_code}-draft-{draft.id}.yaml")


@bp.route("/campaigns/<code>/checklist.yaml")
@login_required
def version_yaml(code):
    """A published checklist version as a checklist file."""
    raw = request.args.get("version", "")
    number = int(raw) if raw.isdigit() and len(raw) < 10 else None
    text, number = drafts.version_yaml(g.current_user, code, number)
    return yaml_file(text, f"{code}-v{number}.yaml")
