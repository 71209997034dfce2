"""The dashboard's account pages (账号管理): the office runs accounts, team leads see
their inspectors; and everyone's own password page (required after a reset).

Registered on the dashboard's blueprint (``web.routes.bp``) with its CSRF check, error
pages and helpers; the same services as the API do the work.
"""

from flask import flash, g, redirect, render_template, request, url_for

from inspect_app.accounts import services as accounts
from inspect_app.domain import DISTRICTS, ROLES
from inspect_app.errors import Conflict, Forbidden, Invalid
from inspect_app.extensions import db
from inspect_app.openrosa import keys
from inspect_app.openrosa.key_routes import key_state, server_url
from inspect_app.web.routes import bp
from inspect_app.web.session import login_required

PHONE_CHARS = set("0123456789+() -")


def _office_only() -> None:
    if g.current_user.role != "office":
        raise Forbidden("只有专项办可以管理账号")


def _form_account(*, creating: bool) -> tuple[dict, dict[str, str]]:
    """The account form's values and what is wrong with them (field: Chinese message)."""
    form = request.form
    data = {
        "display_name": form.get("display_name", "").strip(),
        "role": form.get("role", ""),
        "districts": form.getlist("districts"),
        "phone": form.get("phone", "").strip(),
    }
    problems = {}
    if creating:
        data["username"] = form.get("username", "").strip()
        name = data["username"]
        if (
            not name
            or len(name) > 64
            or not all(c.isascii() and (c.isalnum() or c in "_.-") for c in name)
        ):
            problems["username"] = "用户名只能由字母、数字、_ . - 组成，1 到 64 位"
    if not data["display_name"] or len(data["display_name"]) > 64:
        problems["display_name"] = "请填写姓名（不超过 64 字）"
    if data["role"] not in ROLES:
        problems["role"] = "请选择角色"
    if any(d not in DISTRICTS for d in data["districts"]):
        problems["districts"] = "辖区有误"
    elif data["role"] in ("inspector", "team_lead") and not data["districts"]:
        problems["districts"] = "检查员和组长至少需要一个辖区"
    if len(data["phone"]) > 32 or not set(data["phone"]) <= PHONE_CHARS:
        problems["phone"] = "电话号码只能包含数字、空格和 + - ( )"
    return data, problems


def _form_page(template: str, status: int = 200, **context):
    page = render_template(template, districts=DISTRICTS, roles=ROLES, **context)
    return page, status


@bp.route("/users")
@login_required
def users():
    """Accounts: all for the office, the inspectors of their districts for a team lead."""
    rows = accounts.list_accounts(g.current_user)
    return render_template("web/users.html", rows=rows, may_manage=g.current_user.role == "office")


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def user_new():
    """Create a user; their temporary password is shown once, on the answer to this form."""
    _office_only()
    if request.method == "GET":
        return _form_page(
            "web/user_form.html", values={"role": "inspector", "districts": []}, problems={}
        )
    data, problems = _form_account(creating=True)
    if not problems:
        try:
            user, password = accounts.create_account(g.current_user, data)
        except (Conflict, Invalid) as error:
            db.session.rollback()
            problems = {"username" if isinstance(error, Conflict) else "_": error.message}
        else:
            return render_template(
                "web/password_shown.html", user=user, password=password, created=True
            )
    return _form_page("web/user_form.html", 422, values=data, problems=problems)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def user(user_id):
    """A user: details, last login and sync; for the office, the form to change them."""
    found = accounts.visible_account(g.current_user, user_id)
    may_manage = g.current_user.role == "office"
    if request.method == "GET":
        return _form_page(
            "web/user.html",
            account=found,
            may_manage=may_manage,
            values=accounts.account_view(found),
            problems={},
            app_key=key_state(found.id),
        )
    _office_only()
    data, problems = _form_account(creating=False)
    if not problems:
        try:
            accounts.change_account(g.current_user, found, data)
        except (Conflict, Invalid) as error:
            db.session.rollback()
            problems = {"_": error.message}
        else:
            flash("已保存", "status")
            return redirect(url_for("web.user", user_id=found.id))
    found = accounts.visible_account(g.current_user, user_id)
    return _form_page(
        "web/user.html",
        422,
        account=found,
        may_manage=True,
        values=data,
        problems=problems,
        app_key=key_state(found.id),
    )


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@login_required
def user_active(user_id):
    """Disable (every login of the user ends at once) or enable a user."""
    _office_only()
    found = accounts.visible_account(g.current_user, user_id)
    active = request.form.get("active") == "true"
    try:
        accounts.change_account(g.current_user, found, {"active": active})
    except Conflict as error:
        db.session.rollback()
        flash(error.message, "alert")
    else:
        flash("已启用该账号" if active else "已停用该账号，其所有登录已失效", "status")
    return redirect(url_for("web.user", user_id=user_id))


@bp.route("/users/<int:user_id>/password-reset", methods=["POST"])
@login_required
def user_password_reset(user_id):
    """A new temporary password, shown once on this answer; the user's logins end."""
    _office_only()
    found = accounts.visible_account(g.current_user, user_id)
    password = accounts.reset_password(g.current_user, found)
    return render_template("web/password_shown.html", user=found, password=password, created=False)


@bp.route("/users/<int:user_id>/app-key", methods=["POST"])
@login_required
def user_app_key(user_id):
    """Issue the user's key for ODK Collect / KoboCollect: the server URL and the settings
    QR code are shown on this answer only (the previous key stops at once)."""
    _office_only()
    found = accounts.visible_account(g.current_user, user_id)
    token = keys.issue(found, g.current_user.id)
    server = server_url()
    payload = keys.settings_payload(keys.collect_settings(server, token, found.username))
    return render_template(
        "web/app_key_shown.html",
        user=found,
        key_url=keys.key_url(server, token),
        qr_svg=keys.qr_svg(payload),
    )


@bp.route("/users/<int:user_id>/app-key/revoke", methods=["POST"])
@login_required
def user_app_key_revoke(user_id):
    """Revoke the user's key: the apps holding it stop at once."""
    _office_only()
    found = accounts.visible_account(g.current_user, user_id)
    if keys.revoke(found, g.current_user.id):
        flash("已吊销采集密钥，使用它的手机应用已立即停止", "status")
    else:
        flash("该账号没有有效的采集密钥", "status")
    return redirect(url_for("web.user", user_id=user_id))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """Choose one's own password (asked first after a new account or a reset)."""
    user = g.current_user
    if request.method == "GET":
        return render_template("web/password.html", problem=None)
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    again = request.form.get("new_password_again", "")
    problem = None
    if len(new) < 8 or len(new) > 256:
        problem = "新密码应为 8 到 256 位"
    elif new != again:
        problem = "两次输入的新密码不一致"
    else:
        try:
            accounts.change_own_password(user, current, new)
        except (Forbidden, Conflict) as error:
            db.session.rollback()
            problem = error.message
    if problem:
        return render_template("web/password.html", problem=problem), 422
    flash("密码已修改", "status")
    return redirect(url_for("web.overview"))
