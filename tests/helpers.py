"""Assertions shared by the test modules."""


def assert_error(response, status: int, code: str) -> dict:
    """The contract's error body: {"error": {"code", "message", ...}} with a Chinese message."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["error"]["message"])
    return body["error"]
