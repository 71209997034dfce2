"""Assertions shared by the test modules."""

import re
from contextlib import contextmanager

from sqlalchemy import event


def assert_error(response, status: int, code: str) -> dict:
    """The contract's error body: {"error": {"code", "message", ...}} with a Chinese message.

    The message is for the inspector: it names fields by their Chinese labels, and the
    JSON keys of ``fields`` appear nowhere in it.
    """
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    message = body["error"]["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)
    for path in body["error"].get("fields", {}):
        for key in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", path):
            # (a key inside an echoed value, as in no-such-campaign, is no key)
            assert not re.search(rf"(?<![A-Za-z0-9_-]){key}(?![A-Za-z0-9_-])", message), (
                key,
                message,
            )
    return body["error"]


@contextmanager
def sql_statements(app):
    """Collect the SQL statements the app's engine sends while the block runs."""
    from inspect_app.extensions import db

    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)
