"""The one error body, whatever went wrong and wherever."""

import re

import pytest

from tests.helpers import assert_error


def test_unknown_path_is_404_in_contract_shape(client):
    assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_wrong_method_is_405_in_contract_shape(client):
    response = client.put("/api/v1/auth/token", json={})
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_unexpected_exception_is_500_without_a_trace(app):
    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    error = assert_error(response, 500, "internal_error")
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in error["message"]


def test_openapi_document_is_served_and_describes_the_error_body(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/auth/token" in spec["paths"]
    error_schema = spec["components"]["schemas"]["ErrorBody"]
    assert error_schema["required"] == ["error"]
    login = spec["paths"]["/api/v1/auth/token"]["post"]
    assert {"200", "401", "422", "429"} <= set(login["responses"])


def test_browsable_api_page_works_offline(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/v1/docs-assets/swagger-ui-bundle.js" in html
    asset = client.get("/api/v1/docs-assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and b"SwaggerUI" in asset.data
    asset.close()


def test_the_printed_address_leads_to_the_dashboard_which_links_the_api_documentation(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard/")
    login = client.get("/dashboard/login")
    assert 'href="/api/v1/docs"' in login.text


def _input_schemas(app):
    """Every schema a view reads input with (bodies, queries)."""
    from inspect_app.photos.schemas import VariantQuerySchema

    return [
        parameter["schema"]
        for view in app.view_functions.values()
        for parameter in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    ] + [VariantQuerySchema]  # GET /photos/{sha256} reads it inside its own view


def _fields(schema, seen):
    from marshmallow import fields

    schema = schema() if isinstance(schema, type) else schema
    if type(schema) in seen:
        return
    seen.add(type(schema))
    for name, field in schema.fields.items():
        if field.dump_only:
            continue
        yield type(schema).__name__, field.data_key or name
        inner = field
        while isinstance(inner, fields.List):
            inner = inner.inner
        if isinstance(inner, fields.Nested):
            yield from _fields(inner.schema, seen)


def test_every_input_field_has_a_chinese_label(app):
    import inspect

    from inspect_app.auth.services import create_user
    from inspect_app.field_labels import FIELD_LABELS

    seen: set = set()
    named = [pair for schema in _input_schemas(app) for pair in _fields(schema, seen)]
    assert len(seen) >= 15 and len(named) >= 60  # the walk reached the bodies' nested parts
    # the CLI's users have no schema: their fields are create_user's arguments
    named += [("create_user", p) for p in inspect.signature(create_user).parameters]
    unlabelled = [(schema, name) for schema, name in named if name not in FIELD_LABELS]
    assert not unlabelled
    for label in FIELD_LABELS.values():
        assert re.fullmatch(r"[\u4e00-\u9fff]+", label), label


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("photos", "照片"),
        ("findings[0].photos", "第1条问题的照片"),
        ("answers[2].item_code", "第3条检查结果的检查项"),
        ("location.lat", "检查位置的纬度"),
        ("findings[1].no_such_key", "第2条问题"),
        ("no_such_key", ""),
    ],
)
def test_a_json_path_reads_as_its_labels(path, label):
    from inspect_app.field_labels import path_label

    assert path_label(path) == label


def test_validation_message_names_the_field_in_chinese(client, make_user, login):
    make_user("east", "inspector", ["东城区"])
    headers = login("east")
    response = client.get("/api/v1/sites?limit=0&district=火星", headers=headers)
    error = assert_error(response, 422, "validation_error")
    assert set(error["fields"]) == {"limit", "district"}
    assert error["message"].startswith("提交的数据有误：")
    assert "每页条数：" in error["message"] and "辖区：" in error["message"]
