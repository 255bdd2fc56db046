"""The spread page: a team's target to reps × months, previewed before it is written."""

from decimal import Decimal

import pytest

from targets.models import Target
from targets.services import target_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def east_year(sales):
    return target_save(
        user=sales.admin,
        scope="team",
        subject_id=sales.east.pk,
        metric="deals_won",
        period="2017",
        value="100",
    )


def test_the_preview_shows_every_cell_and_the_totals_and_writes_nothing(client, sales, east_year):
    client.force_login(sales.east_manager)
    response = client.get(f"/targets/{east_year.pk}/plan/", {"method": "even"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Preview: nothing is saved yet" in html
    spread = response.context["spread"]
    assert [total for _, _, total in spread.rows] == [Decimal(50), Decimal(50)]  # Alice, Bob
    assert spread.total == 100
    assert "divided over reps and months" in html
    assert Target.objects.count() == 1


def test_confirming_writes_the_cells_and_opens_the_grid(client, sales, east_year):
    client.force_login(sales.east_manager)
    response = client.post(f"/targets/{east_year.pk}/plan/", {"method": "even"})
    assert response.status_code == 302
    assert response.url == f"/targets/grid/?metric=deals_won&year=2017&team={sales.east.pk}"
    months = Target.objects.filter(scope="rep", period_kind="month")
    assert months.count() == 24
    assert sum(t.value for t in months) == 100
    grid = client.get(response.url).content.decode()
    assert 'value="5"' in grid  # whole deals in the reps × months grid


def test_bad_weights_say_why_and_write_nothing(client, sales, east_year):
    client.force_login(sales.east_manager)
    response = client.post(f"/targets/{east_year.pk}/plan/", {"method": "weights", "weights": "1, 2"})
    assert response.status_code == 200
    assert "Give 12 weights, one per month" in response.content.decode()
    assert Target.objects.count() == 1


def test_a_rep_cannot_open_it(client, sales, east_year):
    client.force_login(sales.alice.user)
    assert client.get(f"/targets/{east_year.pk}/plan/").status_code == 404


def test_a_relative_targets_baseline_is_named_as_its_period(client, sales):
    target_save(
        user=sales.admin,
        scope="rep",
        subject_id=sales.alice.pk,
        metric="revenue_won",
        period="2017-Q1",
        baseline="2016-Q4",
        uplift_pct="10",
    )
    client.force_login(sales.east_manager)
    html = client.get("/targets/").content.decode()
    assert "10% over 2016-Q4" in html  # it said "10% over 2016-10"
