"""Forecast submissions are append-only history (issue 14, item 4), written by one service.

A rep submits their own; nobody edits or deletes a submission through the API — not the rep
(who could otherwise rewrite a commit and undo their forecast accuracy), not their manager, not
an admin: a correction is a new submission. The API and the scorecard page share
targets.services.forecast_submit, so they refuse the same things with the same words.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from kpis.models import ForecastSubmission
from tests.factories import ForecastFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def commits(org):
    """Alice's own commit for 2017-Q2, and one her manager made for her."""
    own = ForecastFactory(rep=org.alice, amount=Decimal(1000), submitted_by=org.alice.user)
    managers = ForecastFactory(rep=org.alice, amount=Decimal(2000), submitted_by=org.east_manager)
    return own, managers


def body(org, **changes):
    return {
        "scope": "rep",
        "rep": org.alice.pk,
        "period_kind": "quarter",
        "period_start": "2030-04-01",  # a period to come: one that has ended is refused
        "amount": "5.00",
        **changes,
    }


@pytest.mark.parametrize("who", ["alice", "east_manager", "admin"])
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_nobody_edits_or_deletes_a_submission(org, client_as, commits, who, method):
    user = org.alice.user if who == "alice" else getattr(org, who)
    client = client_as(user)
    for forecast in commits:
        response = getattr(client, method)(f"/api/v1/forecasts/{forecast.pk}/", body(org), format="json")

        assert response.status_code == 405, (forecast, response.content)
    assert sorted(ForecastSubmission.objects.values_list("amount", flat=True)) == [1000, 2000]


def test_a_rep_may_read_both_but_only_adds_her_own_submission(org, client_as, commits):
    rep = client_as(org.alice.user)

    listed = rep.get("/api/v1/forecasts/").json()["results"]
    added = rep.post("/api/v1/forecasts/", body(org, amount="3000.00"), format="json")

    assert {row["id"] for row in listed} == {f.pk for f in commits}
    assert added.status_code == 201
    assert ForecastSubmission.objects.count() == 3


def test_a_manager_corrects_a_forecast_by_a_new_submission(org, client_as, commits):
    before = timezone.now()

    response = client_as(org.east_manager).post(
        "/api/v1/forecasts/", body(org, amount="2500.00"), format="json"
    )

    latest = ForecastSubmission.objects.order_by("-submitted_at", "-pk").first()
    assert response.status_code == 201
    assert (latest.amount, latest.submitted_by, latest.submitted_at >= before) == (
        Decimal("2500.00"),
        org.east_manager,
        True,
    )
    assert ForecastSubmission.objects.filter(pk__in=[f.pk for f in commits]).count() == 2


def test_the_service_refuses_a_reps_company_forecast_and_a_negative_amount(org, client_as):
    response = client_as(org.alice.user).post(
        "/api/v1/forecasts/", body(org, scope="company", rep=None), format="json"
    )
    negative = client_as(org.alice.user).post("/api/v1/forecasts/", body(org, amount="-1"), format="json")

    assert response.json() == {"scope": ["Only admins submit company forecasts."]}
    assert negative.status_code == 400 and "amount" in negative.json()
    assert not ForecastSubmission.objects.exists()


def test_a_submission_is_dated_now_whatever_the_body_says(org, client_as):
    before = timezone.now()

    response = client_as(org.alice.user).post(
        "/api/v1/forecasts/", body(org, submitted_at="2000-01-01T00:00:00Z"), format="json"
    )

    assert response.status_code == 201
    assert ForecastSubmission.objects.get().submitted_at >= before
