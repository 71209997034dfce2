"""Debian's headless Chromium and a live server with the demo data, for the dashboard tests.

The browser is /usr/bin/chromium driven by Playwright's Python client; no browser is ever
downloaded. Without it the tests fail in CI (CI=true) and are skipped elsewhere, saying why.
The server is ``inspect-app serve`` (gunicorn) on a fresh SQLite database filled by
``inspect-app init`` and ``inspect-app demo``, as a new user's ``make run`` would.
"""

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.support.a11y import assert_accessible
from tests.support.server import BIN, Server

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = PROJECT_ROOT / "build" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
DEMO_PASSWORD = "golmud2025"

# Browser context options of the two screens the dashboard is made for.
DEVICES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} not found: install Debian's chromium package (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is missing: pip install -e '.[test]'"
    return None


def require_chromium() -> None:
    """Fail in CI, skip elsewhere, when the browser cannot run."""
    reason = chromium_missing()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI needs the dashboard's browser tests: {reason}")
    pytest.skip(reason)


def launch(playwright):
    """Headless Debian Chromium."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )


def shot(page, name: str, full_page: bool = True) -> Path:
    """A screenshot (of the whole page, or of the first screen) in build/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def log_in(page, base: str, username: str, password: str = DEMO_PASSWORD):
    """Fill the login form and send it; returns the response to the POST."""
    page.goto(f"{base}/dashboard/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_response(
        lambda r: "/dashboard/login" in r.url and r.request.method == "POST"
    ) as info:
        page.click("button[type=submit]")
    page.wait_for_load_state()
    return info.value


def pdf_text(path: Path) -> str:
    """The text of a PDF, by poppler's pdftotext."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext missing: apt-get install poppler-utils")
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return result.stdout


class DemoSite:
    """``inspect-app serve`` on a fresh SQLite database with the demo data in ``root``."""

    def __init__(self, root: Path):
        self.root = root
        self.database = root / "demo.sqlite3"
        self.server = Server(f"sqlite:///{self.database}", root / "media", root / "instance")
        self.base = self.server.base
        self._tokens: dict[str, str] = {}

    def start(self) -> "DemoSite":
        for command in (["init"], ["demo"]):
            result = subprocess.run(
                [str(BIN), *command],
                env=self.server.env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert result.returncode == 0, f"inspect-app {command[0]}: {result.stderr}"
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def query(self, sql: str, *params) -> list[tuple]:
        """Read the database directly (read-only): the truth the pages are checked against."""
        connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=10)
        try:
            return connection.execute(sql, params).fetchall()
        finally:
            connection.close()

    def api(self, username: str, path: str):
        """GET an API path as a demo user (Bearer token), decoded JSON."""
        if username not in self._tokens:
            request = urllib.request.Request(
                f"{self.base}/api/v1/auth/token",
                data=json.dumps({"username": username, "password": DEMO_PASSWORD}).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                self._tokens[username] = json.load(response)["token"]
        request = urllib.request.Request(
            f"{self.base}{path}", headers={"Authorization": f"Bearer {self._tokens[username]}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)


@contextlib.contextmanager
def running_chromium():
    """A launched browser for the duration of the block (after require_chromium)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield browser
        finally:
            browser.close()


def checked(page, name: str) -> None:
    """A screenshot of the page, the accessibility checks, and on a phone no page wider
    than its 390 px screen (``page.device`` says which)."""
    shot(page, f"{page.device}-{name}")
    assert_accessible(page)
    if page.device == "phone":
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{page.url}: {width}px wide on a 390px phone"
