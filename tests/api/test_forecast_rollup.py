"""/api/v1/forecast/: the roll-up of a subject for a period (DESIGN.md), as the page shows it;
submissions with an adjustment through /api/v1/forecasts/; a deal's category through
/api/v1/opportunities/. Figures: tests/targets/forecast_book.py."""

from decimal import Decimal as D

import pytest

from kpis.models import ForecastSubmission, Opportunity
from tests.targets.forecast_book import make_book

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(org):
    return make_book(org)


def get(client, **query):
    return client.get("/api/v1/forecast/", query)


def test_the_roll_up_of_a_team_lists_its_reps_and_its_total(org, book, client_as):
    response = get(client_as("manager"), scope="team", subject=org.east.pk, period=book.quarter.label)

    assert response.status_code == 200
    body = response.json()
    assert [(line["name"], line["commit"]) for line in body["lines"]] == [
        ("Alice", "3000.000000"),
        ("Bob", "2000.000000"),
    ]
    total = body["total"]
    assert {k: total[k] for k in ("quota", "closed", "commit", "best_case", "pipeline", "gap")} == {
        "quota": "9000.000000",
        "closed": "1500.000000",
        "commit": "5000.000000",
        "best_case": "8000.000000",
        "pipeline": "14500.000000",
        "gap": "4000.000000",
    }
    assert (total["coverage"], total["no_close_date"], total["submission"], total["change"]) == (
        "1.733333",
        1,
        None,
        None,
    )
    assert total["rollup"] == "5000.000000"  # nobody submitted: the reps' commits


@pytest.mark.parametrize(
    ("who", "scope", "subject"),
    [("other_manager", "team", "east"), ("rep", "team", "east"), ("other_rep", "rep", "alice")],
)
def test_a_subject_one_may_not_see_is_a_404_with_no_figure(org, book, client_as, who, scope, subject):
    pk = getattr(org, subject).pk

    response = get(client_as(who), scope=scope, subject=pk, period=book.quarter.label)

    assert response.status_code == 404
    assert "3000" not in response.content.decode()


@pytest.mark.parametrize(
    ("query", "field"),
    [({"period": "2026-Q9"}, "period"), ({"scope": "nation"}, "scope"), ({"subject": None}, "subject")],
)
def test_a_malformed_request_is_a_400_on_its_field(org, book, client_as, query, field):
    params = {"scope": "team", "subject": org.east.pk, "period": book.quarter.label} | query

    response = get(client_as("manager"), **{k: v for k, v in params.items() if v is not None})

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_a_manager_submits_an_adjusted_team_commit_through_the_api(org, book, client_as):
    body = {
        "scope": "team",
        "team": org.east.pk,
        "period_kind": "quarter",
        "period_start": book.quarter.start.isoformat(),
        "adjustment": "-1000.00",
    }

    response = client_as("manager").post("/api/v1/forecasts/", body, format="json")

    assert response.status_code == 201, response.content
    assert (response.json()["rollup"], response.json()["amount"]) == ("5000.00", "4000.00")
    assert ForecastSubmission.objects.get().adjustment == D(-1000)


def test_a_rep_may_not_submit_for_her_team_through_the_api(org, book, client_as):
    body = {
        "scope": "team",
        "team": org.east.pk,
        "period_kind": "quarter",
        "period_start": book.quarter.start.isoformat(),
        "adjustment": "0",
    }

    response = client_as("rep").post("/api/v1/forecasts/", body, format="json")

    assert response.status_code == 400
    assert not ForecastSubmission.objects.exists()


def test_a_deals_category_is_set_through_the_api_but_not_on_a_closed_deal(org, book, client_as):
    open_deal = Opportunity.objects.get(rep=org.alice, amount=4000)
    won = Opportunity.objects.get(rep=org.alice, amount=1000)
    client = client_as("manager")  # the API writes deals for managers; a rep sets hers on the page

    changed = client.patch(f"/api/v1/opportunities/{open_deal.pk}/", {"forecast_category": "commit"})
    refused = client.patch(f"/api/v1/opportunities/{won.pk}/", {"forecast_category": "commit"})

    assert (changed.status_code, changed.json()["forecast_category"]) == (200, "commit")
    assert refused.status_code == 400 and list(refused.json()) == ["forecast_category"]
    won.refresh_from_db()
    assert won.forecast_category == ""
