"""Figures with their state on every page, the company's "not assigned to a team" line, fair
comparisons (to the same day of the period before and a year before) and "data as of".

Figures from tests/web/conftest.py's `sales` (every deal closes on the 15th): Alice 3000 in
2017-03 (and a 500 lost on the 20th), 2750 in 2017-02; Bob 1000 a month; Carol 2000 a month.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kpis import engine, signals
from kpis.models import Activity, Customer, KpiSnapshot, NpsResponse, Opportunity
from kpis.periods import Period
from kpis.selectors import same_point
from targets.services import target_save
from tests.factories import RepFactory, UserFactory, won_stage

pytestmark = pytest.mark.django_db


def add(*facts):
    with signals.bulk_changes(recompute=False):
        for fact in facts:
            fact.save()
    engine.recompute_all()


def won(rep, amount, closed_on):
    return Opportunity(
        name=f"{rep and rep.full_name} {closed_on}",
        rep=rep,
        stage=won_stage(),
        amount=Decimal(amount),
        created_on=closed_on.replace(day=1),
        closed_on=closed_on,
    )


@pytest.fixture
def today_is(monkeypatch):
    def set_today(day: dt.date):
        monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)

    return set_today


# --- the same point of an earlier period


def test_the_same_point_is_day_n_of_the_period_or_the_shorter_periods_last_day():
    march, feb = Period.parse("2017-03"), Period.parse("2017-02")
    assert same_point(feb, march, dt.date(2017, 3, 20)) == dt.date(2017, 2, 20)
    assert same_point(feb, march, dt.date(2017, 3, 31)) == dt.date(2017, 2, 28)
    leap_march, leap_feb = Period.parse("2016-03"), Period.parse("2016-02")
    assert same_point(leap_feb, leap_march, dt.date(2016, 3, 30)) == dt.date(2016, 2, 29)
    q1, q4 = Period.parse("2017-Q1"), Period.parse("2016-Q4")
    # day 50 of Q1 (19 February) against day 50 of Q4: 19 November
    assert same_point(q4, q1, dt.date(2017, 2, 19)) == dt.date(2016, 11, 19)


# --- fair comparisons


@pytest.fixture
def march_to_date(sales, today_is):
    """Besides `sales`: Alice wins 1000 on 25 February (after the 20th), 1500 on 5 March 2016 and
    500 on 25 March 2016; she calls on 3 and 21 February. Today is 20 March 2017."""
    a = sales.alice
    add(
        won(a, "1000", dt.date(2017, 2, 25)),
        won(a, "1500", dt.date(2016, 3, 5)),
        won(a, "500", dt.date(2016, 3, 25)),
        Activity(rep=a, kind="call", occurred_at=dt.datetime(2017, 2, 3, 10, tzinfo=dt.UTC), subject="c"),
        Activity(rep=a, kind="call", occurred_at=dt.datetime(2017, 2, 21, 10, tzinfo=dt.UTC), subject="c"),
    )
    today_is(dt.date(2017, 3, 20))
    return sales


def by_key(comparison):
    return {c.metric.key: c for c in comparison}


def test_a_running_month_is_compared_to_the_same_day_of_the_month_before_and_a_year_ago(
    client, march_to_date
):
    client.force_login(march_to_date.east_manager)
    response = client.get(f"/dashboard/?team={march_to_date.east.pk}&period=2017-03")
    revenue = by_key(response.context["comparison"])["revenue_won"]
    # East in March so far: Alice 3000 + Bob 1000. February to the 20th: 2750 + 1000 (not the
    # 1000 of the 25th, which the whole of February has: 4750).
    assert revenue.now.value == Decimal(4000)
    assert revenue.previous.to_day == dt.date(2017, 2, 20)
    assert revenue.previous.figure.value == Decimal(3750)
    assert revenue.previous.change == Decimal(250) / Decimal(3750)  # +6.7%, better
    assert revenue.previous.better is True
    # March 2016 to the 20th: Alice's 1500 (not the 500 of the 25th): +166.7%.
    assert revenue.year_ago.period == Period.parse("2016-03")
    assert revenue.year_ago.figure.value == Decimal(1500)
    assert revenue.year_ago.change == Decimal(2500) / Decimal(1500)
    html = response.content.decode()
    assert "vs 2017-02 to 2017-02-20" in html and "+7%" in html
    assert "vs 2016-03 to 2016-03-20" in html and "+167%" in html


def test_the_scorecard_compares_the_same_way_and_ratios_from_the_same_facts(client, march_to_date):
    alice = march_to_date.alice
    client.force_login(alice.user)
    response = client.get("/scorecard/?period=2017-03")
    compared = {shown.row.metric.key: shown.compared for shown in response.context["rows"]}
    # Alice, March to the 20th: 1 won and the 500 lost on the 20th: 50%; February to the 20th:
    # 1 won, none lost: 100%.
    assert compared["win_rate"].now.value == Decimal("0.5")
    assert compared["win_rate"].previous.figure.value == Decimal(1)
    assert compared["win_rate"].previous.better is False
    # Calls: 7 in March (1st-7th) against 1 by 20 February (the 21st's is later).
    assert compared["calls_made"].previous.figure.value == 1
    # Last March she had closed no deal by the 20th... but the 1500: win rate 100%.
    assert compared["win_rate"].year_ago.figure.value == Decimal(1)
    # A metric that cannot be cut at a day is not compared while the period runs.
    assert compared["pipeline_value"].previous is None


def test_a_closed_period_is_compared_whole_with_whole(client, sales, today_is):
    today_is(dt.date(2017, 4, 2))
    client.force_login(sales.east_manager)
    response = client.get(f"/dashboard/?team={sales.east.pk}&period=2017-03")
    revenue = by_key(response.context["comparison"])["revenue_won"]
    # East: March 4000 against the whole of February, 2750 + 1000.
    assert revenue.previous.to_day is None
    assert (revenue.now.value, revenue.previous.figure.value) == (Decimal(4000), Decimal(3750))
    assert revenue.year_ago.figure.state is None  # no 2016-03 snapshot at all: "—", not 0


# --- states on every page


@pytest.fixture
def dan(sales):
    """A rep who has closed nothing: his win rate is undefined (0 / 0), not 0%."""
    rep = RepFactory(full_name="Dan", team=sales.west, user=UserFactory(username="dan"))
    engine.recompute_all()
    return rep


def test_the_dashboard_shows_an_undefined_figure_as_a_muted_dash_with_its_reason(client, sales, dan):
    client.force_login(sales.boss)
    response = client.get(f"/dashboard/?team={sales.region.pk}&period=2017-03")
    line = next(ln for ln in response.context["lines"] if ln.rep == dan)
    win_rate = line.cells[2]
    assert 'class="muted state"' in win_rate.text and "Undefined:" in win_rate.text
    assert win_rate.sort == ""


def test_the_scorecard_and_the_targets_list_show_the_figures_state(client, sales, dan):
    target_save(
        user=sales.admin, scope="rep", subject_id=dan.pk, metric="win_rate", period="2017-03", value="0.3"
    )
    client.force_login(dan.user)
    html = client.get("/scorecard/?period=2017-03").content.decode()
    assert 'title="Undefined: ' in html
    html = client.get("/targets/").content.decode()
    row = html[html.index("Dan") :]
    row = row[: row.index("</tr>")]
    assert 'class="muted state" title="Undefined: ' in row  # the actual: not a bare "—"


def test_every_page_with_figures_says_when_they_were_computed(client, sales):
    client.force_login(sales.boss)
    stamp = timezone.localtime(KpiSnapshot.objects.latest("computed_at").computed_at)
    for url in [
        f"/dashboard/?team={sales.region.pk}&period=2017-03",
        f"/scorecard/{sales.alice.pk}/?period=2017-03",
        "/targets/",
        f"/drill/?scope=rep&subject={sales.alice.pk}&metric=revenue_won&period=2017-03",
    ]:
        html = client.get(url).content.decode()
        assert 'data-testid="data-as-of"' in html, url
    html = client.get(f"/dashboard/?team={sales.region.pk}&period=2017-03").content.decode()
    assert f'Data as of <time datetime="{stamp:%Y-%m-%dT%H:%M}' in html


# --- the company's "not assigned to a team"


def test_the_company_dashboard_shows_what_no_team_has_so_that_the_teams_add_up(client, sales):
    orphan = Customer.objects.create(name="Nobody's", acquired_on=dt.date(2017, 1, 5))
    add(
        NpsResponse(customer=orphan, responded_on=dt.date(2017, 3, 3), score=10),
        NpsResponse(customer=orphan, responded_on=dt.date(2017, 3, 4), score=3),
        NpsResponse(customer=orphan, responded_on=dt.date(2017, 3, 5), score=9),
    )
    client.force_login(sales.admin)
    response = client.get("/dashboard/?period=2017-03")
    unassigned = response.context["unassigned"]
    # Every deal has a rep: the company's March revenue is the Region's 6000, nothing apart.
    assert Decimal(unassigned["cells"][0].sort) == 0
    # NPS of the customer with no owner: (2 promoters − 1 detractor) / 3 × 100 = 33.
    nps = {m.key: c for m, c in unassigned["customer"]}["nps"]
    assert Decimal(nps.sort).quantize(Decimal("0.01")) == Decimal("33.33")
    html = response.content.decode()
    assert "not assigned to a team" in html
    # A team's dashboard has no such line.
    assert client.get(f"/dashboard/?team={sales.region.pk}&period=2017-03").context["unassigned"] is None
