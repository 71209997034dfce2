"""The one error body, whatever went wrong and wherever."""

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
