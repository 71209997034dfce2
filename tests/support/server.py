"""Runs ``inspect-app serve`` (gunicorn) in a subprocess for tests that need real HTTP."""

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

    def start(self, timeout: float = 30) -> "Server":
        self.process = subprocess.Popen(
            [str(BIN), "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # so kill() can take gunicorn's workers down with it
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/api/v1/health", timeout=2):
                    return self
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited: {self.process.stderr.read()}") from None
                if time.monotonic() > deadline:
                    raise TimeoutError("server did not start") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process and self.process.stderr:
            self.process.stderr.close()

    def kill(self) -> None:
        """SIGKILL the master and every worker at once: a power cut, as far as they know."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
