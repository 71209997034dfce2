"""The ``inspect-app`` command: init, users, demo, serve, checklists.

Every command runs in one transaction and prints one clear line when a setting
or the database is wrong, never a traceback.

The imports of the app's modules sit inside the commands on purpose: each command loads
only what it uses, so ``inspect-app --help`` and ``serve`` start quickly. These are the
only imports inside functions besides the app factory's (see the README's floors).
"""

import functools
import os
import sys

import click
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from inspect_app.config import ConfigError


def _fail(message: str) -> None:
    click.echo(f"inspect-app: {message}", err=True)
    raise SystemExit(1)


def _app():
    from inspect_app import create_app

    try:
        return create_app()
    except ConfigError as exc:
        _fail(str(exc))


def _check_database(app) -> None:
    from inspect_app.extensions import db

    with app.app_context():
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except (OperationalError, SQLAlchemyError) as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            _fail(f"无法连接数据库 (cannot reach INSPECT_DATABASE_URL {db.engine.url!r}): {reason}")


def _require_migrated(app) -> None:
    from inspect_app.extensions import db
    from inspect_app.migrate import is_migrated

    with app.app_context():
        if not is_migrated(db.engine):
            _fail("数据库尚未初始化，请先运行 inspect-app init (the database has no schema yet)")


def in_transaction(func):
    """Run the command in an app context; commit on success, roll back on any error."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from inspect_app.errors import DomainError
        from inspect_app.extensions import db

        app = _app()
        _check_database(app)
        with app.app_context():
            try:
                result = func(app, *args, **kwargs)
                db.session.commit()
                return result
            except DomainError as exc:
                db.session.rollback()
                # The message names the fields by their labels already.
                _fail(exc.message)
            except BaseException:
                db.session.rollback()
                raise

    return wrapper


@click.group()
def main() -> None:
    """格尔木市专项整治现场检查后端 (field inspection backend)."""


@main.command()
def init() -> None:
    """Create or migrate the database and load the checklists."""
    app = _app()
    _check_database(app)
    from inspect_app import migrate
    from inspect_app.extensions import db

    with app.app_context():
        migrate.upgrade(db.engine)
    click.echo("数据库已迁移到最新版本 (database migrated)")
    _load_checklists(app, app.config["CHECKLISTS_DIR"])


def _load_checklists(app, directory: str) -> None:
    from inspect_app.campaigns.checklist_file import ChecklistFileError
    from inspect_app.campaigns.services import load_checklists
    from inspect_app.extensions import db

    with app.app_context():
        try:
            results = load_checklists(directory)
            db.session.commit()
        except ChecklistFileError as exc:
            db.session.rollback()
            _fail(str(exc))
    for result in results:
        state = "已发布新版本" if result.published else "未变化"
        click.echo(f"检查清单 {result.code}: 第 {result.version} 版 ({state})")


@main.group()
def users() -> None:
    """Manage user accounts."""


@users.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["inspector", "team_lead", "office"]))
@click.option("--district", "districts", multiple=True, help="辖区, repeat for several")
@click.option("--display-name", default=None, help="姓名")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input")
@in_transaction
def users_create(app, username, role, districts, display_name, password_stdin) -> None:
    """Create a user; the password is read from stdin (--password-stdin) or prompted for."""
    from inspect_app.auth.services import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("密码", hide_input=True, confirmation_prompt=True)
    _require_migrated(app)
    user = create_user(username, role, password, list(districts), display_name)
    click.echo(
        f"已创建用户 {user.username} ({user.role}) 辖区: {'、'.join(user.districts) or '全部'}"
    )


@users.command("app-key")
@click.argument("username")
@click.option(
    "--server",
    default=None,
    help="The address phones reach this server at (default: INSPECT_PUBLIC_URL)",
)
@click.option("--revoke", is_flag=True, help="Revoke the user's key instead of issuing one")
@in_transaction
def users_app_key(app, username, server, revoke) -> None:
    """Issue a user's key for ODK Collect / KoboCollect and print the server URL to enter
    (their previous key stops); --revoke revokes it."""
    from sqlalchemy import select

    from inspect_app.auth.models import User
    from inspect_app.extensions import db
    from inspect_app.openrosa import keys

    _require_migrated(app)
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        _fail(f"没有用户名为 {username} 的账号 (no such user)")
    if revoke:
        done = keys.revoke(user, None)
        click.echo(f"已吊销 {username} 的采集密钥" if done else f"{username} 没有有效的采集密钥")
        return
    server = (server or app.config.get("PUBLIC_URL") or "").strip().rstrip("/")
    if not server.startswith(("http://", "https://")):
        _fail(
            "请用 --server 或 INSPECT_PUBLIC_URL 给出手机访问本服务的地址，如 https://inspect.example.org"
            " (the server URL phones use)"
        )
    token = keys.issue(user, None)
    if not user.active:
        click.echo(f"注意：账号 {username} 已停用，启用后密钥才有效", err=True)
    click.echo(f"已为 {username} 签发采集密钥；在 ODK Collect 的服务器地址中填写：")
    click.echo(keys.key_url(server, token))


@main.command()
@click.option("--inspections", default=300, show_default=True, help="How many inspections")
@click.option("--seed", default=2025, show_default=True, help="Random seed")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has demo data")
@in_transaction
def demo(app, inspections, seed, if_empty) -> None:
    """Fill the database with realistic demo data for Golmud."""
    from inspect_app.demo import DEMO_PASSWORD, has_demo_data, seed_demo

    _require_migrated(app)
    if if_empty and has_demo_data():
        click.echo("演示数据已存在，跳过 (demo data already present)")
    else:
        from inspect_app.config import PROJECT_ROOT

        photos = PROJECT_ROOT.parent / "shared" / "photos"
        seed_demo(
            inspections=inspections,
            seed=seed,
            progress=click.progressbar,
            photos_dir=photos if photos.is_dir() else None,
            media_dir=app.config["MEDIA_DIR"],
        )
    click.echo(f"演示账号 (demo logins), 密码 password: {DEMO_PASSWORD}")
    from inspect_app.demo import DEMO_USERS

    for username, role, districts, name in DEMO_USERS:
        click.echo(f"  {username:<12} {role:<10} {name} {'、'.join(districts) or '全部辖区'}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=int(os.environ.get("INSPECT_WORKERS", "2")), show_default=True)
@click.option("--threads", default=int(os.environ.get("INSPECT_THREADS", "4")), show_default=True)
def serve(host, port, workers, threads) -> None:
    """Serve the API with gunicorn (a production WSGI server)."""
    app = _app()
    _check_database(app)
    _require_migrated(app)
    from inspect_app.extensions import db
    from inspect_app.server import run_gunicorn

    with app.app_context():
        # Workers fork from this process: they must not share its database sockets.
        db.engine.dispose()
    click.echo(f"inspect-app 正在运行: http://{host}:{port}/  (整改仪表板；API 文档 /api/v1/docs)")
    run_gunicorn(app, host=host, port=port, workers=workers, threads=threads)


@main.command()
@click.option("--queue", default=None, help="Queue name (default: INSPECT_REPORT_QUEUE)")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty")
def worker(queue, burst) -> None:
    """Make queued reports (needs INSPECT_REDIS_URL); run on as many machines as you like."""
    app = _app()
    if not app.config.get("REDIS_URL"):
        _fail("inspect-app worker 需要设置 INSPECT_REDIS_URL (the worker takes jobs from Redis)")
    _check_database(app)
    _require_migrated(app)
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from rq import Queue, SimpleWorker

    from inspect_app.documents.jobs import revive_stale
    from inspect_app.escalation.webhooks import start_periodic
    from inspect_app.extensions import db

    connection = Redis.from_url(app.config["REDIS_URL"])
    try:
        connection.ping()
    except RedisConnectionError as exc:
        _fail(f"无法连接 Redis (cannot reach INSPECT_REDIS_URL): {exc}")
    name = queue or app.config["REPORT_QUEUE"]
    click.echo(f"inspect-app worker: 等待报表任务 (queue {name})")
    # SimpleWorker runs jobs in this process, inside the app context made once here.
    with app.app_context():
        # Jobs whose worker died mid-job are queued again (or failed) before we start.
        revived = revive_stale()
        # Ends the look's transaction: on SQLite it holds the write lock (BEGIN IMMEDIATE)
        # until the first job otherwise, and every other writer would wait on it.
        db.session.commit()
        if revived:
            click.echo(f"inspect-app worker: {revived} 个中断的报表任务已重新排队")
        if not burst:
            # The escalation job beside the reports, every ESCALATION_INTERVAL_SECONDS.
            start_periodic(app)
        SimpleWorker([Queue(name, connection=connection)], connection=connection).work(
            burst=burst, with_scheduler=False
        )


@main.command()
def escalate() -> None:
    """Remind, escalate and 挂牌督办 findings by their deadlines; send the webhooks.

    Safe every minute from cron or a systemd timer, and beside other runs: each step is
    made once per finding and deadline.
    """
    app = _app()
    _check_database(app)
    _require_migrated(app)
    from inspect_app.escalation.webhooks import escalate as run_escalation

    with app.app_context():
        counts = run_escalation(app.config)
    click.echo(
        "inspect-app escalate: 临期提醒 {remind} · 逾期上报 {escalate} · 挂牌督办 {supervise}"
        " · webhook 送达 {delivered}，失败 {failed}".format(
            **{"remind": 0, "escalate": 0, "supervise": 0, **counts}
        )
    )


@main.command()
@click.option("--sample", default=50, show_default=True, help="Photos whose hash is re-checked")
@click.option("--all", "check_all", is_flag=True, help="Re-check the hash of every photo")
def check(sample, check_all) -> None:
    """Check the installation: database, photo records against files, statuses against history."""
    app = _app()
    _check_database(app)
    _require_migrated(app)
    from inspect_app import check as checks
    from inspect_app.photos.storage import MediaStore

    with app.app_context():
        report = checks.run(MediaStore(app.config["MEDIA_DIR"]), None if check_all else sample)
    for note in report.notes:
        click.echo(f"  {note}")
    for problem in report.problems:
        click.echo(f"问题: {problem}", err=True)
    if not report.ok:
        raise SystemExit(1)
    click.echo("检查通过 (all checks passed)")


@main.group()
def checklists() -> None:
    """Generate checklists from notices and publish them."""


@checklists.command("generate")
@click.argument("notice", type=click.Path(exists=True, dir_okay=False))
@click.option("--campaign", "code", required=True, help="Campaign code, e.g. refined-oil-2025")
@click.option("--prefix", default=None, help="Item code prefix, e.g. RO")
def checklists_generate(notice, code, prefix) -> None:
    """Print a draft checklist YAML made from a notice text file.

    The fit check and what was left out head the YAML as comments. A notice with
    nothing to check at a site exits 2 with one sentence that says so.
    """
    from checklists import NotAFieldCampaign, NoticeError, draft_from_text, dump_draft

    try:
        with open(notice, encoding="utf-8") as fh:
            raw = fh.read()
    except UnicodeDecodeError:
        _fail(f"{notice}: 不是 UTF-8 文本 (the notice must be UTF-8 text)")
    try:
        draft = draft_from_text(raw, code, prefix, source=notice)
    except NotAFieldCampaign as exc:
        click.echo(f"inspect-app: {notice}: {exc.message}", err=True)
        raise SystemExit(2) from None
    except NoticeError as exc:
        _fail(str(exc))
    click.echo(dump_draft(draft), nl=False)
    click.echo(draft.summary.sentence, err=True)


@checklists.command("load")
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False))
def checklists_load(directory) -> None:
    """Publish changed checklist files as new versions (unchanged files make none)."""
    app = _app()
    _check_database(app)
    _require_migrated(app)
    _load_checklists(app, directory or app.config["CHECKLISTS_DIR"])


if __name__ == "__main__":  # pragma: no cover
    main()
