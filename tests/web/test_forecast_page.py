"""The forecast page: the roll-up side by side, the commit form for those who may submit,
visibility, bad input and a constant number of queries. Figures: tests/targets/forecast_book.py."""

from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kpis import engine
from kpis.models import ForecastSubmission, Opportunity
from tests.factories import ForecastFactory, OpportunityFactory, RepFactory
from tests.targets.forecast_book import days_ago, make_book

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(org):
    return make_book(org)


def page(client, user, **query):
    client.force_login(user)
    return client.get("/forecast/", query)


def east(org, book, **more):
    return {"scope": "team", "subject": org.east.pk, "period": book.quarter.label, **more}


def test_a_manager_sees_her_reps_side_by_side_with_the_teams_total(client, org, book):
    response = page(client, org.east_manager, **east(org, book))

    assert response.status_code == 200
    lines = response.context["forecast"].lines
    assert [(line.name, line.commit, line.pipeline) for line in lines] == [
        ("Alice", D(3000), D(10000)),
        ("Bob", D(2000), D(4500)),
        ("East", D(5000), D(14500)),
    ]
    html = response.content.decode()
    for shown in ("USD 3,000", "USD 14,500", "180%", "173.3%", "Adjustment over the roll-up"):
        assert shown in html


def test_by_default_a_rep_sees_her_own_forecast_for_the_current_quarter(client, org, book):
    response = page(client, org.alice.user)

    assert (response.context["subject"], response.context["period"]) == (("rep", org.alice.pk), book.quarter)
    assert [d.amount for d in response.context["deals"]] == [D(4000), D(3000), D(2000), D(500), D(700)]


def test_a_manager_submits_the_teams_number_with_an_adjustment(client, org, book):
    client.force_login(org.east_manager)
    response = client.post(f"/forecast/?scope=team&subject={org.east.pk}", {"adjustment": "250"}, follow=True)

    made = ForecastSubmission.objects.get()
    # Neither rep submitted: the roll-up is their commits, 3,000 + 2,000; plus 250.
    assert (made.team, made.rollup, made.adjustment, made.amount) == (org.east, D(5000), D(250), D(5250))
    assert "roll-up USD 5,000 + USD 250" in response.content.decode()


def test_a_rep_sets_a_deals_category_on_her_page(client, org, book):
    deal = Opportunity.objects.get(rep=org.alice, amount=4000)
    client.force_login(org.alice.user)

    client.post("/forecast/", {"action": "category", "opportunity": deal.pk, "forecast_category": "commit"})

    deal.refresh_from_db()
    assert deal.forecast_category == "commit"
    assert page(client, org.alice.user).context["forecast"].total.commit == D(7000)  # 3,000 + 4,000


@pytest.mark.parametrize("who", ["outsider", "west_manager", "alice"])
def test_who_may_not_see_the_team_gets_a_404_and_no_figure(client, org, book, who):
    user = org.alice.user if who == "alice" else getattr(org, who)

    response = page(client, user, **east(org, book))

    assert response.status_code == 404
    assert "3,000" not in response.content.decode()


def test_a_rep_cannot_submit_for_the_team(client, org, book):
    client.force_login(org.alice.user)

    response = client.post(f"/forecast/?scope=team&subject={org.east.pk}", {"adjustment": "0"})

    assert response.status_code == 404
    assert not ForecastSubmission.objects.exists()


def test_a_negative_amount_is_refused_on_its_field_and_nothing_is_saved(client, org, book):
    client.force_login(org.alice.user)

    response = client.post("/forecast/", {"amount": "-1"})

    assert response.status_code == 200
    assert response.context["form"].errors == {"amount": ["Ensure this value is greater than or equal to 0."]}
    assert not ForecastSubmission.objects.exists()


def test_an_unknown_period_or_scope_is_a_404_as_on_every_page(client, org, book):
    period = page(client, org.east_manager, **east(org, book, period="2026-Q9"))
    scope = page(client, org.east_manager, scope="region", subject=org.east.pk)

    assert period.status_code == scope.status_code == 404
    assert "This page does not exist" in period.content.decode()


def test_an_ended_period_shows_its_figures_but_takes_no_submission(client, org, book):
    response = page(client, org.east_manager, **east(org, book, period="2020-Q1"))
    posted = client.post(f"/forecast/?scope=team&subject={org.east.pk}&period=2020-Q1", {"adjustment": "0"})

    assert response.status_code == 200 and response.context["form"] is None
    assert "has ended" in response.content.decode()
    assert posted.status_code == 200 and not ForecastSubmission.objects.exists()


def test_an_ended_quarter_shows_forecast_accuracy_and_bias_side_by_side(client, org, book):
    last = book.quarter.shifted(-1)
    won = book.stages[3]
    OpportunityFactory(rep=org.alice, stage=won, amount=D(4000), created_on=last.start, closed_on=last.end)
    made_before = days_ago((timezone.localdate() - last.start).days + 1)
    ForecastFactory(
        rep=org.alice,
        period_kind="quarter",
        period_start=last.start,
        amount=D(4500),
        submitted_at=made_before,
    )
    engine.recompute_all()

    response = page(client, org.alice.user, period=last.label)

    alice = response.context["forecast"].total
    # 4,500 committed against 4,000 won: accuracy 1 − 500 / 4,000 = 87.5%, bias +500 / 4,000.
    assert (alice.accuracy.value, alice.bias.value) == (D("0.875"), D("0.125"))
    html = response.content.decode()
    assert "87.5%" in html and "+12.5%" in html


def test_the_page_runs_a_constant_number_of_queries_however_big_the_team(client, org, book):
    def queries(n_reps):
        RepFactory.create_batch(n_reps, team=org.east)
        client.force_login(org.east_manager)
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/forecast/", east(org, book)).status_code == 200
        return len(captured)

    assert queries(3) == queries(45)  # 5 reps, then 50
