"""Running the app under gunicorn from ``inspect-app serve``."""

import os

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, app, options: dict):
        self._app = app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        return self._app


def run_gunicorn(app, host: str, port: int, workers: int, threads: int) -> None:
    # gthread workers: a phone on a slow link holds a thread, not a whole process.
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "timeout": 120,
        # One line per request to stdout; INSPECT_ACCESS_LOG=0 turns it off (load tests).
        "accesslog": "-" if os.environ.get("INSPECT_ACCESS_LOG", "1") != "0" else None,
        "errorlog": "-",
        "preload_app": False,
    }
    _Gunicorn(app, options).run()
