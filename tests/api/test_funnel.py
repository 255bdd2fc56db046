"""/api/v1/pipeline/funnel/: the same funnel as the page (tests/kpis/test_funnel.py's deals, worked
out there by hand), the same visibility, bad input a 400."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.kpis.test_funnel import TODAY, funnel_stages, with_deals
from tests.web.test_funnel_page import build_team

pytestmark = pytest.mark.django_db

URL = "/api/v1/pipeline/funnel/"


@pytest.fixture
def funnel_deals(org):
    return with_deals(org)


@pytest.fixture(autouse=True)
def on_31_march_2017(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)


def test_a_manager_gets_the_teams_funnel(funnel_deals, client_as):
    w = funnel_deals
    response = client_as("manager").get(URL, {"scope": "team", "subject": w.east.pk, "period": "2017-Q1"})
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("scope", "subject", "name", "period", "period_start", "period_end")} == {
        "scope": "team",
        "subject": w.east.pk,
        "name": "East",
        "period": "2017-Q1",
        "period_start": "2017-01-01",
        "period_end": "2017-03-31",
    }
    assert body["opened"] == 6
    # 6 → 5 → 3 → 2: 5/6, 3/5, 2/3.
    assert [(s["name"], s["reached"], s["conversion"]) for s in body["steps"]] == [
        ("Prospecting", 6, None),
        ("Engaging", 5, "0.833333"),
        ("Proposal", 3, "0.600000"),
        ("Won", 2, "0.666667"),
    ]
    assert [(t["name"], t["median_days"], t["deals"]) for t in body["days_in_stage"]] == [
        ("Prospecting", "10.000000", 4),
        ("Engaging", "20.000000", 4),
        ("Proposal", "10.000000", 1),
    ]
    assert (body["slipped_deals"], body["slips"]) == (2, 3)
    assert body["slipped"][0] == {
        "opportunity_id": w.deals["A4"].pk,
        "deal": "A4",
        "rep": "Alice",
        "times": 2,
        "first_expected_close": "2017-03-31",
        "latest_expected_close": "2017-05-31",
    }
    assert [f["metric"] for f in body["figures"]] == ["win_rate", "avg_deal_value", "sales_cycle_days"]


def test_an_undefined_figure_is_null_not_0(funnel_deals, client_as):
    response = client_as("rep").get(
        URL, {"scope": "rep", "subject": funnel_deals.alice.pk, "period": "2017-02"}
    )
    body = response.json()
    assert [s["conversion"] for s in body["steps"]] == [None, "0.500000", "0.000000", None]
    assert body["days_in_stage"][2]["median_days"] is None
    assert body["figures"][0] == {"metric": "win_rate", "value": None, "state": None}  # not computed


@pytest.mark.parametrize(
    ("role", "scope", "who", "status"),
    [
        ("rep", "rep", "alice", 200),
        ("rep", "rep", "bob", 404),
        ("other_rep", "rep", "alice", 404),
        ("rep", "team", "east", 404),
        ("other_manager", "team", "east", 404),
        ("other_manager", "rep", "alice", 404),
        ("manager", "company", None, 404),
        ("admin", "company", None, 200),
        ("anonymous", "rep", "alice", 401),
    ],
)
def test_only_those_who_may_see_the_subject_get_its_funnel(funnel_deals, client_as, role, scope, who, status):
    query = {"scope": scope, "period": "2017-Q1"}
    if who:
        query["subject"] = getattr(funnel_deals, who).pk
    response = client_as(role).get(URL, query)
    assert response.status_code == status
    if status != 200:
        assert b"A4" not in response.content


NOT_A_PERIOD = "'2017-13' is not a period: use 2017-03, 2017-Q1 or 2017."


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"scope": "rep", "subject": "{alice}", "period": "2017-13"}, "period", NOT_A_PERIOD),
        (
            {"scope": "nation", "subject": "{alice}", "period": "2017-Q1"},
            "scope",
            '"nation" is not a valid choice.',
        ),
        ({"scope": "team", "period": "2017-Q1"}, "subject", "Name the team by its id."),
        ({"scope": "rep", "subject": "{alice}"}, "period", "This field is required."),
        ({"scope": "rep", "subject": "abc", "period": "2017-Q1"}, "subject", "A valid integer is required."),
    ],
)
def test_bad_input_is_a_400_that_says_why(funnel_deals, client_as, query, field, message):
    query = {k: v.format(alice=funnel_deals.alice.pk) for k, v in query.items()}
    response = client_as("admin").get(URL, query)
    assert response.status_code == 400
    assert response.json()[field] == [message]


def test_the_api_runs_as_many_queries_for_50_reps_as_for_5(client_as, org):
    stages, counts = funnel_stages(), []
    for size in (5, 50):
        manager, team = build_team(size, stages)
        with CaptureQueriesContext(connection) as ctx:
            body = (
                client_as(manager).get(URL, {"scope": "team", "subject": team.pk, "period": "2017-Q1"}).json()
            )
        assert (body["opened"], body["slips"]) == (size, size)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_the_schema_documents_the_endpoint(client_as):
    schema = client_as("admin").get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"][URL]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"scope", "subject", "period", "page"}
    assert {"200", "400", "404"} <= set(operation["responses"])
