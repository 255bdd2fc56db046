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


# --- answers as the schema describes them (schemathesis finds these; here each is named)


def test_a_target_reads_back_every_field_it_was_written_with(org, client_as):
    body = {"scope": "rep", "subject": org.alice.pk, "metric": "revenue_won", "period": "2017-Q1"}
    response = client_as("manager").post("/api/v1/targets/", body | {"value": "100"}, format="json")
    assert response.status_code == 201, response.content
    target = client_as("manager").get(f"/api/v1/targets/{response.json()['id']}/").json()
    # subject and baseline were write-only in the schema although returned; an unchecked
    # target's last_status "" was outside the enum.
    assert target["subject"] == org.alice.pk and target["baseline"] is None and target["last_status"] == ""


def test_the_schema_lists_what_a_target_answers(schema):
    target = schema["components"]["schemas"]["Target"]["properties"]
    assert not target["subject"].get("writeOnly") and not target["baseline"].get("writeOnly")
    assert "" in str(target["last_status"])  # the blank choice is documented


def test_an_id_the_router_does_not_take_is_a_json_404(org, client_as):
    response = client_as("admin").get("/api/v1/teams/-1.5e-07/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json" and response.json() == {"detail": "Not found."}


def test_a_page_404_stays_a_page(org, client):
    client.force_login(org.admin)
    assert client.get("/no/such/page/")["Content-Type"].startswith("text/html")


def test_an_unreadable_body_is_a_400_the_schema_describes(org, client_as, schema):
    response = client_as("admin").generic("POST", "/api/v1/teams/", "\0", content_type="application/json")
    assert response.status_code == 400 and isinstance(response.json()["detail"], str)
    bad_request = schema["paths"]["/api/v1/teams/"]["post"]["responses"]["400"]["content"]["application/json"]
    assert bad_request["schema"] == {"$ref": "#/components/schemas/BadRequest"}
    assert {"$ref": "#/components/schemas/Error"} in schema["components"]["schemas"]["BadRequest"]["oneOf"]


def test_every_400_names_its_fields_with_lists_of_messages(org, client_as):
    target = client_as("manager").post(
        "/api/v1/targets/",
        {"scope": "rep", "subject": org.alice.pk, "metric": "revenue_won", "period": "2017-Q1", "value": "1"},
        format="json",
    )
    response = client_as("manager").patch(f"/api/v1/targets/{target.json()['id']}/", {"scope": "team"})
    assert response.status_code == 400
    assert response.json() == {
        "scope": ["A target keeps its subject, metric and period: delete it and create another."]
    }
