"""The OpenAPI schema validates and documents every operation, parameter and error."""

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient


@pytest.fixture
def schema(db):
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_the_schema_validates_without_a_warning(db, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def test_every_resource_is_in_the_schema(schema):
    paths = set(schema["paths"])
    for resource in [
        "teams",
        "reps",
        "customers",
        "leads",
        "opportunities",
        "activities",
        "nps-responses",
        "spend",
        "forecasts",
        "stages",
        "snapshots",
    ]:
        assert {f"/api/v1/{resource}/", f"/api/v1/{resource}/{{id}}/"} <= paths
    others = {"/api/v1/metrics/", "/api/v1/metrics/{key}/", "/api/v1/scorecard/", "/api/v1/auth/token/"}
    assert others <= paths


def test_every_parameter_is_described_and_every_error_documented(schema):
    for name, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            assert parameter.get("description"), f"{name}: parameter {parameter['name']} has no description"
        codes = set(operation["responses"])
        assert "429" in codes, name
        if name != "POST /api/v1/auth/token/":
            assert {"401", "403"} <= codes, name
        if "{" in name or name.endswith("scorecard/"):
            assert "404" in codes, name
        if name.startswith(("POST", "PUT", "PATCH")):
            assert "400" in codes, name
        if name.startswith("DELETE"):
            assert "409" in codes, name


def test_the_docs_page_serves_swagger_ui_from_the_package_not_a_cdn(db):
    response = APIClient().get("/api/docs/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "drf_spectacular_sidecar/swagger-ui-dist" in html
    assert "cdn" not in html.lower()
