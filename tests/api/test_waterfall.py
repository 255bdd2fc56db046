"""/api/v1/pipeline/waterfall/: the same waterfall as the page (tests/waterfall_deals.py's
hand-worked 2025-Q4), the same visibility, and bad input refused with a 400 that says why."""

import pytest
import yaml
from django.utils import timezone

from kpis import api
from tests.waterfall_deals import quarter_deals

URL = "/api/v1/pipeline/waterfall/"


@pytest.fixture
def deals(org):
    return quarter_deals(org)


def test_a_team_waterfall_balances_and_lists_the_deals_of_every_bar(org, deals, client_as):
    response = client_as("manager").get(URL, {"scope": "team", "subject": org.east.pk, "period": "2025-Q4"})
    assert response.status_code == 200
    fall = response.json()
    assert {
        k: fall[k] for k in ("scope", "subject", "name", "period", "due_by", "opening_day", "closing_day")
    } == {
        "scope": "team",
        "subject": org.east.pk,
        "name": "East",
        "period": "2025-Q4",
        "due_by": "2025-12-31",
        "opening_day": "2025-09-30",
        "closing_day": "2025-12-31",
    }
    assert fall["opening"]["amount"] == "22000.00" and fall["closing"]["amount"] == "20000.00"
    # 22,000 + 1,000 + 4,500 + 1,000 − 500 − 2,000 − 1,000 − 5,000 = 20,000
    assert [(m["key"], m["sign"], m["amount"]) for m in fall["movements"]] == [
        ("created", 1, "1000.00"),
        ("pulled_in", 1, "4500.00"),
        ("increased", 1, "1000.00"),
        ("decreased", -1, "500.00"),
        ("pushed_out", -1, "2000.00"),
        ("won", -1, "1000.00"),
        ("lost", -1, "5000.00"),
    ]
    pulled = next(m for m in fall["movements"] if m["key"] == "pulled_in")
    assert pulled["deals"] == [
        {"id": deals["Pulled"].pk, "name": "Pulled", "rep_id": org.bob.pk, "rep": "Bob", "amount": "3000.00"},
        {
            "id": deals["Reopened"].pk,
            "name": "Reopened",
            "rep_id": org.alice.pk,
            "rep": "Alice",
            "amount": "1500.00",
        },
    ]
    assert sorted(d["name"] for d in fall["closing"]["deals"]) == ["Pulled", "Reopened", "Steady", "Trimmed"]


def test_a_bar_counts_its_deals_and_pages_through_them(org, deals, client_as, monkeypatch):
    monkeypatch.setattr(api, "PER_PAGE", 3)
    query = {"scope": "team", "subject": org.east.pk, "period": "2025-Q4"}
    fall = client_as("manager").get(URL, query).json()
    closing = [d["name"] for d in fall["closing"]["deals"]]
    assert fall["closing"]["count"] == 4 and closing == [
        "Steady",
        "Trimmed",
        "Pulled",
    ]  # 10,000, 5,500, 3,000
    assert [(m["key"], m["count"]) for m in fall["movements"] if m["count"]] == [
        ("created", 1),
        ("pulled_in", 2),
        ("increased", 1),
        ("decreased", 1),
        ("pushed_out", 1),
        ("won", 1),
        ("lost", 1),
    ]
    second = client_as("manager").get(URL, {**query, "show": "closing", "page": 2}).json()
    assert [d["name"] for d in second["closing"]["deals"]] == ["Reopened"]
    assert second["opening"]["deals"] == fall["opening"]["deals"]  # the other bars: their first page
    # No bar named: every bar's page 2. The opening's 4: Steady 10,000, Trimmed 6,000, Grown-lost
    # 4,000, then Pushed 2,000.
    every = client_as("manager").get(URL, {**query, "page": 2}).json()
    assert [[d["name"] for d in every[bar]["deals"]] for bar in ("opening", "closing")] == [
        ["Pushed"],
        ["Reopened"],
    ]


def test_the_company_is_all_and_takes_no_subject(org, deals, client_as):
    fall = client_as("admin").get(URL, {"scope": "company", "period": "2025-Q4"}).json()
    assert fall["name"] == "all" and fall["subject"] == 0
    assert fall["closing"]["amount"] == "20700.00"  # East's 20,000 and Carol's undated 700


def test_a_rep_sees_only_their_own(org, deals, client_as):
    alice = client_as("rep")
    own = alice.get(URL, {"scope": "rep", "subject": org.alice.pk, "period": "2025-Q4"})
    assert own.status_code == 200 and own.json()["closing"]["amount"] == "11500.00"
    for query in (
        {"scope": "rep", "subject": org.bob.pk, "period": "2025-Q4"},
        {"scope": "team", "subject": org.east.pk, "period": "2025-Q4"},
        {"scope": "company", "period": "2025-Q4"},
    ):
        response = alice.get(URL, query)
        assert response.status_code == 404, query
        assert response.json() == {"detail": "No such subject among those you may see."}


def test_an_outsider_gets_404_and_no_figure(org, deals, client_as):
    response = client_as(org.outsider).get(
        URL, {"scope": "team", "subject": org.east.pk, "period": "2025-Q4"}
    )
    assert response.status_code == 404 and "22000" not in response.content.decode()
    other = client_as("other_manager").get(
        URL, {"scope": "team", "subject": org.east.pk, "period": "2025-Q4"}
    )
    assert other.status_code == 404


def test_signing_in_comes_first(org, client_as):
    assert client_as("anonymous").get(URL, {"scope": "company", "period": "2025-Q4"}).status_code == 401


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        (
            {"scope": "team", "subject": "{east}", "period": "2025-Q9"},
            {"period": ["'2025-Q9' is not a period: use 2017-03, 2017-Q1 or 2017."]},
        ),
        (
            {"scope": "galaxy", "subject": "{east}", "period": "2025-Q4"},
            {"scope": ['"galaxy" is not a valid choice.']},
        ),
        ({"scope": "team", "period": "2025-Q4"}, {"subject": ["Name the team by its id."]}),
        ({"scope": "team", "subject": "{east}"}, {"period": ["This field is required."]}),
        (
            {"scope": "team", "subject": "{east}", "period": "2025-Q4", "show": "all", "page": "0"},
            {
                "show": ['"all" is not a valid choice.'],
                "page": ["Ensure this value is greater than or equal to 1."],
            },
        ),
    ],
)
def test_bad_input_is_a_400_that_says_why(org, client_as, query, errors):
    query = {k: v.format(east=org.east.pk) for k, v in query.items()}
    response = client_as("manager").get(URL, query)
    assert response.status_code == 400
    assert response.json() == errors


def test_a_period_that_has_not_begun_is_a_400(org, client_as):
    year = timezone.localdate().year + 1
    response = client_as("manager").get(
        URL, {"scope": "team", "subject": org.east.pk, "period": f"{year}-Q1"}
    )
    assert response.status_code == 400
    assert response.json() == {"period": [f"{year}-Q1 has not begun: its waterfall starts on {year}-01-01."]}


def test_the_schema_documents_it(client_as):
    schema = yaml.safe_load(client_as("anonymous").get("/api/schema/").content)
    operation = schema["paths"][URL]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"scope", "subject", "period", "show", "page"}
    assert {"200", "400", "404"} <= set(operation["responses"])
    bar = schema["components"]["schemas"]["WaterfallBar"]
    assert set(bar["properties"]) == {"key", "label", "sign", "amount", "count", "deals"}
