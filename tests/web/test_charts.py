"""Charts have a y axis with round ticks, and the month view marks the team's targets — its
own, or the sum of its reps' month targets (the legend promised ticks the month view never drew)."""

from decimal import Decimal

import pytest

from kpis.charts import bar_chart, compact, nice_ticks
from targets.services import target_save

pytestmark = pytest.mark.django_db


def test_round_ticks_from_zero_past_the_highest_value():
    assert nice_ticks([Decimal(13000), Decimal(2000), None]) == [0, 5000, 10000, 15000]
    assert nice_ticks([Decimal(-20), Decimal(35)]) == [-20, 0, 20, 40]
    assert nice_ticks([None]) == [0, 1]
    assert [compact(v) for v in (15000, 1_500_000, 350)] == ["15k", "1.5M", "350"]


def test_a_bar_chart_draws_its_axis_with_labelled_ticks():
    svg = bar_chart([("2017-01", Decimal(9000), "#"), ("2017-02", Decimal(13000), "#")], label="x", fmt=str)
    for tick in ("0", "5k", "10k", "15k"):
        assert f'text-anchor="end">{tick}</text>' in svg
    assert 'class="period odd"' in svg  # the second label: hidden on a phone


def test_the_month_view_marks_the_teams_target_summed_from_its_reps(client, sales):
    for rep, value in [(sales.alice, "3500"), (sales.bob, "1200")]:
        target_save(
            user=sales.admin,
            scope="rep",
            subject_id=rep.pk,
            metric="revenue_won",
            period="2017-03",
            value=value,
        )
    client.force_login(sales.east_manager)
    chart = client.get(f"/dashboard/?team={sales.east.pk}&period=2017-03").context["revenue_chart"]
    # East has no target of its own for March: the mark is Alice's 3500 + Bob's 1200.
    assert chart.count('class="target"') == 1
    assert "2017-03 target: USD 4,700" in chart


def test_the_leaderboards_metric_is_selectable(client, sales):
    client.force_login(sales.boss)
    url = f"/dashboard/?team={sales.region.pk}&period=2017-03"

    def board(leader=""):
        ctx = client.get(url + (f"&leader={leader}" if leader else "")).context
        return ctx["leader"].key, [(ln.rep.full_name, shown) for ln, shown, _ in ctx["leaders"]]

    # March: Alice won 3000 (and lost 500), Carol 2000, Bob 1000.
    assert board() == ("revenue_won", [("Alice", "USD 3,000"), ("Carol", "USD 2,000"), ("Bob", "USD 1,000")])
    # Win rate: Bob and Carol 1 of 1, Alice 1 of 2.
    assert board("win_rate") == ("win_rate", [("Bob", "100.0%"), ("Carol", "100.0%"), ("Alice", "50.0%")])
    assert board("nonsense")[0] == "revenue_won"
    assert 'id="leader"' in client.get(url).content.decode()


# --- the grid's totals


def test_the_grid_adds_rows_and_columns_and_checks_them_against_the_teams_targets(client, sales):
    east = sales.east
    for period, value in [("2017-01", "5000"), ("2017-02", "4000"), ("2017", "60000")]:
        target_save(
            user=sales.admin,
            scope="team",
            subject_id=east.pk,
            metric="revenue_won",
            period=period,
            value=value,
        )
    for rep, month, value in [
        (sales.alice, "2017-01", "3000"),
        (sales.bob, "2017-01", "2,000"),
        (sales.alice, "2017-02", "2500"),
        (sales.bob, "2017-02", "1000"),
    ]:
        target_save(
            user=sales.admin, scope="rep", subject_id=rep.pk, metric="revenue_won", period=month, value=value
        )
    client.force_login(sales.east_manager)
    response = client.get(f"/targets/grid/?team={east.pk}&metric=revenue_won&year=2017")
    totals = response.context["totals"]
    # Rows: Alice 3000 + 2500 = 5500, Bob 2000 + 1000 = 3000.
    assert [t.value for t in totals.rows] == [5500, 3000]
    # January: 5000 against East's 5000, adds up; February 3500 against 4000: 500 under.
    jan, feb, mar = totals.columns[:3]
    assert (jan.value, jan.gap) == (5000, 0)
    assert (feb.value, feb.gap) == (3500, -500)
    assert (mar.value, mar.target) == (None, None)
    # The year: 8500 against 60,000.
    assert (totals.grand.value, totals.grand.gap) == (8500, -51500)
    html = response.content.decode()
    assert "USD 500 under" in html and "USD 51,500 under" in html and "✓ adds up" in html


def test_a_stocks_grid_adds_up_only_over_reps_and_a_rates_not_at_all(client, sales):
    client.force_login(sales.east_manager)
    base = f"/targets/grid/?team={sales.east.pk}&year=2017&metric="
    pipeline = client.get(base + "pipeline_value").context["totals"]
    assert pipeline.rows is None and pipeline.grand is None and len(pipeline.columns) == 12
    rate = client.get(base + "win_rate").context["totals"]
    assert (rate.rows, rate.columns, rate.grand) == (None, None, None)


def test_a_count_charts_ticks_are_whole_numbers():
    assert nice_ticks([Decimal(2)], whole=True) == [0, 1, 2]
