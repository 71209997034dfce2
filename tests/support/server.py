"""Runs ``inspect-app serve`` (gunicorn) in a subprocess for tests that need real HTTP.

The server's log (gunicorn's and the app's, stdout and stderr) goes to a file beside
its instance folder. When the server stops, the test that started it fails if that log
holds a traceback (an exception the app or gunicorn logged: a 500 the test may not have
looked for), or if ``inspect-app check --all`` finds its database or photos unsound.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent / "inspect-app"
TRACEBACK = "Traceback (most recent call last)"


class ServerLogError(AssertionError):
    """The server logged a traceback, or left its data unsound."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, database_url: str, media_dir: Path, instance_dir: Path, workers: int = 2):
        self.port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("INSPECT_")},
            "INSPECT_DATABASE_URL": database_url,
            "INSPECT_MEDIA_DIR": str(media_dir),
            "INSPECT_INSTANCE_DIR": str(instance_dir),
        }
        self.workers = workers
        self.process: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(instance_dir).parent / f"server-{self.port}.log"
        self._log = None

    def start(self, timeout: float = 30) -> "Server":
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed by stop() or kill()
        self.process = subprocess.Popen(
            [str(BIN), "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so kill() can take gunicorn's workers down with it
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/api/v1/health", timeout=2):
                    return self
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited: {self.log()}") from None
                if time.monotonic() > deadline:
                    raise TimeoutError("server did not start") from None
                time.sleep(0.2)

    def log(self) -> str:
        """What the server has logged so far."""
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, *, check: bool = True) -> None:
        """Stop the server; then fail on a traceback in its log or unsound data (``check``)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close_log()
        if check:
            self.assert_clean()

    def kill(self) -> None:
        """SIGKILL the master and every worker at once: a power cut, as far as they know.

        The log is still held to having no traceback; the data is not checked (the test
        restarts the server and checks what the crash left)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._close_log()
        self.assert_no_traceback()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def assert_no_traceback(self) -> None:
        log = self.log()
        if TRACEBACK in log:
            start = log.index(TRACEBACK)
            raise ServerLogError(
                f"the server logged a traceback ({self.log_path}):\n{log[max(0, start - 300) :]}"
            )

    def assert_clean(self) -> None:
        """No traceback in the log, and ``inspect-app check --all`` passes on its data."""
        self.assert_no_traceback()
        result = subprocess.run(
            [str(BIN), "check", "--all"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise ServerLogError(
                f"inspect-app check --all failed after the server stopped:\n"
                f"{result.stdout}{result.stderr}"
            )

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        # A test already failing keeps its own error, not one about the log.
        self.stop(check=exc[0] is None)
