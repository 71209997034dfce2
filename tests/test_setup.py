"""A newcomer's set-up: the README's words, the script they run, and what CI runs agree."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "setup-debian.sh"
README = (ROOT / "README.md").read_text(encoding="utf-8")
SETUP = README[README.index("## Set up and run") : README.index("## A short tour")]


def _commands(text: str) -> list[str]:
    """The command lines of a shell text: no comments, no blank lines, no shell options."""
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith(("set ", "cd "))]


def _readme_blocks() -> list[list[str]]:
    return [_commands(block) for block in re.findall(r"```sh\n(.*?)```", SETUP, re.S)]


def test_ci_runs_exactly_what_the_readme_says():
    ci = _commands((ROOT / ".ci" / "run").read_text())
    blocks = _readme_blocks()
    # First the set-up script, word for word; then the two commands, of which CI's is one.
    assert blocks[0] == ["scripts/setup-debian.sh"]
    assert blocks[1] == ["make run", "make test"]
    assert ci == ["scripts/setup-debian.sh", "make test"]


def test_the_script_is_valid_bash_and_its_dry_run_changes_nothing():
    assert SCRIPT.stat().st_mode & 0o111, "scripts/setup-debian.sh is not executable"
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    result = subprocess.run([str(SCRIPT), "--dry-run"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # A dry run stops before it touches PostgreSQL or Redis, and says what it would do.
    assert "+ createdb" not in result.stdout and "create database test" in result.stdout


def _script_packages() -> set[str]:
    text = SCRIPT.read_text()
    listed = re.search(r"^PACKAGES=\((.*?)^\)", text, re.S | re.M).group(1)
    packages = set(_commands(listed))
    for extra in re.findall(r"PACKAGES\+=\(([^)]*)\)", text):
        packages |= set(extra.split())
    # Ubuntu's name for the browser, put in place of Debian's.
    packages |= set(re.findall(r"/#chromium/([a-z-]+)\}", text))
    return packages


def test_the_readme_names_every_package_the_script_installs():
    paragraph = SETUP[SETUP.index("It installs these") : SETUP.index("It then starts")]
    named = {w for w in re.findall(r"`([^`]+)`", paragraph) if re.fullmatch(r"[a-z0-9.+-]+", w)}
    assert named == _script_packages()
    assert {"python3-venv", "postgresql", "redis-server"} <= named


def test_the_readme_says_where_the_tests_find_postgresql_and_redis():
    conftest = (ROOT / "tests" / "conftest.py").read_text()
    pg_url = re.search(r'"INSPECT_TEST_PG_URL", "([^"]+)"', conftest).group(1)
    jobs = (ROOT / "tests" / "test_report_jobs.py").read_text()
    redis_url = re.search(r'"INSPECT_TEST_REDIS_URL", "([^"]+)"', jobs).group(1)
    assert pg_url in SETUP and "INSPECT_TEST_PG_URL" in SETUP
    assert redis_url in SETUP and "INSPECT_TEST_REDIS_URL" in SETUP


def test_the_package_builds_without_warnings(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert "BuildBackendWarning" not in output and "DeprecationWarning" not in output
    assert list(tmp_path.glob("inspect_app-*.whl"))
