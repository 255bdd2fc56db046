"""A manager opens their team's dashboard for a past period and finds a rep who has left since,
marked, with the team's revenue what the deals credited by date add up to (docs/metrics.md,
"Who gets the credit")."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from kpis import engine
from kpis.models import Opportunity, Stage
from teams.history import Org
from tests.e2e.test_targets_flow import log_in
from tests.web.conftest import sales  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MOVE = dt.date(2017, 2, 10)


def credited_revenue(team_id: int, first: dt.date, last: dt.date) -> Decimal:
    """The won deals closed from `first` to `last` whose rep was in the team on the close date."""
    org = Org.load()
    won = Opportunity.objects.filter(
        stage__outcome=Stage.Outcome.WON, closed_on__gte=first, closed_on__lte=last
    ).values_list("rep_id", "closed_on", "amount")
    return sum((amount for rep, day, amount in won if org.team_of(rep, day) == team_id), Decimal(0))


def test_a_manager_finds_a_former_member_on_a_past_period_and_the_figure_adds_up(page, sales):  # noqa: F811
    sales.bob.team = sales.west
    sales.bob.save(effective=MOVE)
    engine.recompute_all()
    expected = credited_revenue(sales.east.pk, dt.date(2017, 1, 1), dt.date(2017, 3, 31))
    assert expected == Decimal(9250)  # Alice's 8,250 and Bob's January 1,000

    log_in(page, "east_manager")
    page.goto(f"/dashboard/?team={sales.east.pk}&period=2017-Q1")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile(r"^Bob")))
    expect(row.get_by_test_id("left")).to_have_text("left on 10 Feb 2017")
    expect(row.get_by_test_id("partial")).to_be_visible()
    expect(row.get_by_role("link", name="Bob")).to_have_count(0)  # no scorecard of his any more

    card = (
        page.get_by_test_id("comparison")
        .locator(".stat")
        .filter(has=page.get_by_role("heading", name="Revenue won", exact=True))
    )
    shown = card.locator("p.value").inner_text()
    assert Decimal(re.sub(r"[^\d.]", "", shown)) == expected, shown
