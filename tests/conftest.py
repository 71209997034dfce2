"""Fixtures: an app on a fresh, migrated database (SQLite, and PostgreSQL when reachable).

Every test that takes ``app`` or ``client`` runs once per backend. The schema is
migrated and the checklists loaded once per session into a template; each test
gets its own copy (a file copy for SQLite, ``CREATE DATABASE … TEMPLATE`` for
PostgreSQL), so tests never see each other's rows.
"""

import os
import shutil
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from inspect_app import create_app
from inspect_app.config import TestConfig
from tests.support.browser import DEVICES, require_chromium, running_chromium

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
PHOTOS = SHARED / "photos"
PG_URL = os.environ.get("INSPECT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _build_template(url: str, media: Path) -> None:
    from inspect_app import migrate
    from inspect_app.campaigns.services import load_checklists
    from inspect_app.extensions import db

    app = create_app(_config(url, media))
    with app.app_context():
        migrate.upgrade(db.engine)
        load_checklists(app.config["CHECKLISTS_DIR"])
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def _config(url: str, media: Path) -> dict:
    return {
        **{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
        "SQLALCHEMY_DATABASE_URI": url,
        "MEDIA_DIR": str(media),
    }


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return str(exc).splitlines()[0]


class PgTemplates:
    """Creates throw-away PostgreSQL databases on the test server."""

    def __init__(self, admin_url: str):
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.base = make_url(admin_url)
        self.created: list[str] = []

    def url(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def create(self, name: str, template: str | None = None) -> str:
        with self.admin.connect() as connection:
            clause = f' TEMPLATE "{template}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.created.append(name)
        return self.url(name)

    def drop(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def templates(tmp_path_factory):
    """Migrated databases with the checklists loaded, one per backend, built once."""
    root = tmp_path_factory.mktemp("templates")
    sqlite_file = root / "template.sqlite3"
    _build_template(f"sqlite:///{sqlite_file}", root / "media")
    result = {"sqlite": sqlite_file, "postgresql": None, "pg_error": _pg_reachable()}
    pg = None
    if result["pg_error"] is None:
        pg = PgTemplates(PG_URL)
        name = f"inspect_tpl_{uuid.uuid4().hex[:10]}"
        _build_template(pg.create(name), root / "media")
        result["postgresql"] = (pg, name)
    yield result
    if pg is not None:
        pg.drop(result["postgresql"][1])
        pg.admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, templates, tmp_path):
    """A fresh database of each backend; PostgreSQL missing fails in CI and skips elsewhere."""
    if request.param == "sqlite":
        path = tmp_path / "db.sqlite3"
        shutil.copy(templates["sqlite"], path)
        yield f"sqlite:///{path}"
        return
    if templates["postgresql"] is None:
        message = f"PostgreSQL not reachable at {PG_URL}: {templates['pg_error']}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    pg, template = templates["postgresql"]
    name = f"inspect_t_{uuid.uuid4().hex[:12]}"
    url = pg.create(name, template=template)
    yield url
    pg.drop(name)


@pytest.fixture
def backend(database_url) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture
def media_dir(tmp_path) -> Path:
    path = tmp_path / "media"
    path.mkdir()
    return path


@pytest.fixture
def app(database_url, media_dir):
    from inspect_app.extensions import db

    app = create_app(_config(database_url, media_dir))
    yield app
    pool = app.extensions.get("inspect_report_pool")
    if pool is not None:
        pool.shutdown(wait=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Create a user directly in the database; returns its username."""
    from inspect_app.auth.services import create_user
    from inspect_app.extensions import db

    def make(username: str, role: str = "inspector", districts=("东城区",), password="password123"):
        with app.app_context():
            user = create_user(username, role, password, list(districts), f"{username} 姓名")
            db.session.commit()
            return user.id

    return make


@pytest.fixture
def login(client):
    """Log in through the API; returns the Authorization header for that user."""

    def do(username: str, password: str = "password123") -> dict:
        response = client.post(
            "/api/v1/auth/token", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return do


@pytest.fixture
def make_site(app):
    """Create a site directly; returns its id."""
    from inspect_app.extensions import db
    from inspect_app.sites.models import Site
    from inspect_app.sync.services import next_seq

    def make(name="格尔木昆仑路加油站", district="东城区", site_type="加油站", **extra):
        with app.app_context():
            site = Site(
                name=name, district=district, site_type=site_type, sync_seq=next_seq(), **extra
            )
            db.session.add(site)
            db.session.commit()
            return site.id

    return make


@pytest.fixture
def checklist(app):
    """The refined-oil checklist as loaded from checklists/: version and items by kind.

    The item lists hold the items checked at a 加油站, the type ``make_site`` makes by
    default: an item meant for other types of site takes no answer there.
    """
    from sqlalchemy import select

    from inspect_app.campaigns.models import Campaign, ChecklistItem, ChecklistVersion
    from inspect_app.extensions import db

    with app.app_context():
        version = db.session.scalar(
            select(ChecklistVersion).join(Campaign).where(Campaign.code == "refined-oil-2025")
        )
        every = list(
            db.session.scalars(
                select(ChecklistItem)
                .where(ChecklistItem.checklist_version_id == version.id)
                .order_by(ChecklistItem.position)
            )
        )
        items = [i for i in every if "加油站" in i.site_types]
        plain = [i for i in items if not i.photo_required]
        photo = [i for i in items if i.photo_required]
        return {
            "campaign": "refined-oil-2025",
            "version": version.version,
            "site_type": "加油站",
            "codes": [i.code for i in items],
            "elsewhere": [i.code for i in every if "加油站" not in i.site_types],
            "plain": [i.code for i in plain],
            "photo_required": [i.code for i in photo],
            "lead": {i.code: i.lead_department for i in items},
            "severity": {i.code: i.default_severity for i in items},
        }


@pytest.fixture(scope="module")
def playwright():
    """Playwright driving Debian's chromium, for the field app's browser tests."""
    require_chromium()
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def chromium():
    """Debian's chromium, one per test module (the dashboard's browser tests)."""
    with running_chromium() as browser:
        yield browser


@pytest.fixture(params=["desktop", "phone"])
def page(request, chromium, demo):
    """A page of the module's ``demo`` site, on a desktop and on a 390 px phone."""
    context = chromium.new_context(base_url=demo.base, locale="zh-CN", **DEVICES[request.param])
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.device = request.param
    yield page
    context.close()


@pytest.fixture
def staff(make_user, login):
    """The office, a team lead of 东城区, inspectors of 东城区 and 西城区; their logins."""
    ids = {
        "office": make_user("office", "office", []),
        "lead": make_user("lead", "team_lead", ["东城区"]),
        "insp_east": make_user("insp_east", "inspector", ["东城区"]),
        "insp_west": make_user("insp_west", "inspector", ["西城区"]),
    }
    return {"ids": ids, "headers": {name: login(name) for name in ids}}
