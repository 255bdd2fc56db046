"""What the scorecard, dashboard and drill-down show (figures from tests/web/conftest.py)."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils.html import escape

from kpis import catalogue
from kpis.models import ForecastSubmission, KpiSnapshot
from kpis.templatetags.kpis_tags import drill_href, format_value
from targets.services import target_save

pytestmark = pytest.mark.django_db


def test_the_scorecard_shows_each_kpi_with_its_target_attainment_and_status(client, sales):
    target_save(
        user=sales.admin,
        scope="rep",
        subject_id=sales.alice.pk,
        metric="revenue_won",
        period="2017-Q1",
        value="10000",
    )
    client.force_login(sales.alice.user)
    response = client.get("/scorecard/?period=2017-Q1")
    html = response.content.decode()
    row = next(s.row for s in response.context["rows"] if s.row.metric.key == "revenue_won")
    assert row.value == Decimal("8250")
    assert row.progress.attainment == Decimal("0.825")
    assert row.progress.status == "missed"  # a closed quarter: hit or missed, not "behind"
    assert "USD 8,250" in html and "USD 10,000" in html and "82.5%" in html
    assert 'title="Σ amount of opportunities won, by close date."' in html  # the definition on hover
    assert len(response.context["rows"]) == len(catalogue.METRICS)
    assert html.count('<svg class="spark"') >= 10  # the trends


def test_the_scorecard_defaults_to_the_latest_month_and_switches_kind(client, sales):
    client.force_login(sales.alice.user)
    response = client.get("/scorecard/")
    assert response.context["period"].label == "2017-03"
    tabs = {t["kind"]: t["period"].label for t in response.context["switch"]}
    assert tabs == {"month": "2017-03", "quarter": "2017-Q1", "year": "2017"}


def test_every_number_on_the_scorecard_links_to_its_drill_down(client, sales):
    client.force_login(sales.alice.user)
    html = client.get("/scorecard/?period=2017-Q1").content.decode()
    assert f"/drill/?scope=rep&amp;subject={sales.alice.pk}&amp;metric=revenue_won&amp;period=2017-Q1" in html
    assert html.count("/drill/?") >= len(catalogue.METRICS)


def test_a_rep_submits_a_forecast_from_the_scorecard(client, sales):
    client.force_login(sales.alice.user)
    form = client.get("/scorecard/").context["form"]
    period = form.fields["period"].initial
    response = client.post("/scorecard/", {"period": period, "category": "commit", "amount": "12000"})
    assert response.status_code == 302
    forecast = ForecastSubmission.objects.get()
    assert (forecast.rep, forecast.amount, forecast.submitted_by) == (
        sales.alice,
        Decimal("12000"),
        sales.alice.user,
    )


def test_a_negative_forecast_is_refused_with_the_reason(client, sales):
    client.force_login(sales.alice.user)
    period = client.get("/scorecard/").context["form"].fields["period"].initial
    response = client.post("/scorecard/", {"period": period, "category": "commit", "amount": "-1"})
    assert response.status_code == 200 and response.context["form"].errors
    assert not ForecastSubmission.objects.exists()


def test_the_dashboard_shows_reps_leaders_who_is_behind_and_the_period_before(client, sales):
    for rep, value in [(sales.alice, "10000"), (sales.bob, "2000")]:
        target_save(
            user=sales.admin,
            scope="rep",
            subject_id=rep.pk,
            metric="revenue_won",
            period="2017-Q1",
            value=value,
        )
    client.force_login(sales.east_manager)
    ctx = client.get("/dashboard/?period=2017-Q1").context
    assert [ln.rep.full_name for ln in ctx["lines"]] == ["Alice", "Bob"]
    assert [ln.rep.full_name for ln, _, _ in ctx["leaders"]] == ["Alice", "Bob"]
    assert [ln.rep.full_name for ln in ctx["behind"]] == ["Alice"]  # Bob: 3000 of 2000
    revenue = next(c for c in ctx["comparison"] if c.metric.key == "revenue_won")
    assert (revenue.now.value, revenue.previous.figure.value) == (Decimal("11250"), Decimal("13000"))
    assert revenue.previous.better is False and revenue.previous.to_day is None  # closed: whole


def test_the_dashboard_shows_the_stored_figures_of_the_period_for_every_rep_and_team_below(client, sales):
    target_save(
        user=sales.admin,
        scope="rep",
        subject_id=sales.alice.pk,
        metric="revenue_won",
        period="2017-Q1",
        value="10000",
    )
    client.force_login(sales.boss)
    response = client.get(f"/dashboard/?team={sales.region.pk}&period=2017-Q1")
    stored = {
        (s.scope, s.subject_id, s.metric): s.value
        for s in KpiSnapshot.objects.filter(period_kind="quarter", period_start=dt.date(2017, 1, 1))
    }
    ctx = response.context
    rows = [("rep", ln.rep.pk, ln.cells) for ln in ctx["lines"]]
    rows += [("team", team.pk, cells) for team, cells in ctx["children"]]
    shown = [sales.alice, sales.bob, sales.carol, sales.east, sales.west]
    assert [pk for _, pk, _ in rows] == [subject.pk for subject in shown]
    for scope, pk, cells in rows:
        for metric, cell in zip(ctx["metrics"], cells, strict=True):
            value = stored.get((scope, pk, metric.key))
            assert cell.text == format_value(value, metric.unit)
            assert cell.sort == ("" if value is None else f"{value:f}")
            assert cell.href == drill_href(scope, pk, metric.key, "2017-Q1")
    # Alice's revenue in 2017-Q1 (in 2016-Q4, the quarter before, she won 10,000).
    alice, bob = ctx["lines"][:2]
    revenue = alice.cells[0]
    assert (revenue.text, revenue.sort) == ("USD 8,250", "8250.000000")
    assert revenue.href == f"/drill/?scope=rep&subject={sales.alice.pk}&metric=revenue_won&period=2017-Q1"
    html = response.content.decode()
    assert f'data-sort="8250.000000"><a href="{escape(revenue.href)}">USD 8,250</a>' in html
    # Her target and attainment (8,250 of 10,000); Bob has no target.
    assert (alice.target_cell.text, alice.target_cell.sort) == ("USD 10,000", "10000.000000")
    assert (alice.attainment_cell.text, alice.attainment_cell.sort) == ("82.5%", "0.825")
    assert alice.status == alice.progress.status
    assert (bob.target_cell.text, bob.target_cell.sort, bob.status) == ("—", "", "")


def test_the_dashboard_warns_when_team_and_rep_targets_disagree(client, sales):
    target_save(
        user=sales.admin,
        scope="team",
        subject_id=sales.east.pk,
        metric="revenue_won",
        period="2017-Q1",
        value="20000",
    )
    target_save(
        user=sales.admin,
        scope="rep",
        subject_id=sales.alice.pk,
        metric="revenue_won",
        period="2017-Q1",
        value="10000",
    )
    client.force_login(sales.boss)
    response = client.get(f"/dashboard/?team={sales.region.pk}&period=2017-Q1")
    assert [g.target.team for g in response.context["gaps"]] == [sales.east]
    assert "Targets that don't add up" in response.content.decode()


def test_the_team_picker_offers_only_what_the_manager_may_see(client, sales):
    client.force_login(sales.boss)
    picker = client.get("/dashboard/").context["picker"]
    assert [p["name"] for p in picker] == ["Region", "East", "West"]
    client.force_login(sales.east_manager)
    assert [p["name"] for p in client.get("/dashboard/").context["picker"]] == ["East"]
    client.force_login(sales.admin)
    assert client.get("/dashboard/").context["picker"][0]["name"] == "Company"


def test_the_drill_down_lists_the_won_deals_behind_revenue(client, sales):
    client.force_login(sales.alice.user)
    url = f"/drill/?scope=rep&subject={sales.alice.pk}&metric=revenue_won&period=2017-Q1"
    response = client.get(url)
    assert response.context["page"].paginator.count == 3
    assert response.context["snapshot"].value == Decimal("8250")
    assert sum(row[4] for row in response.context["rows"]) == Decimal("8250")


@pytest.mark.parametrize(
    ("metric", "period", "count"),
    [
        ("deals_lost", "2017-03", 1),
        ("win_rate", "2017-03", 2),
        ("pipeline_value", "2017-03", 1),
        ("calls_made", "2017-03", 7),
        ("calls_made", "2017-02", 0),
        ("new_customers", "2016-10", 1),
    ],
)
def test_the_drill_down_picks_the_records_each_metric_counts(client, sales, metric, period, count):
    client.force_login(sales.alice.user)
    url = f"/drill/?scope=rep&subject={sales.alice.pk}&metric={metric}&period={period}"
    assert client.get(url).context["page"].paginator.count == count


def test_a_team_drill_down_covers_its_reps_and_filters(client, sales):
    client.force_login(sales.east_manager)
    base = f"/drill/?scope=team&subject={sales.east.pk}&metric=deals_won&period=2017-Q1"
    assert client.get(base).context["page"].paginator.count == 6
    assert client.get(base + "&q=bob").context["page"].paginator.count == 3


def test_the_drill_down_exports_csv(client, sales):
    client.force_login(sales.alice.user)
    url = f"/drill/?scope=rep&subject={sales.alice.pk}&metric=revenue_won&period=2017-Q1&format=csv"
    response = client.get(url)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Deal", "Customer", "Rep", "Stage", "Amount", "Created", "Closed"]
    assert sorted(r[4] for r in rows[1:]) == ["2500.00", "2750.00", "3000.00"]


def test_the_drill_down_paginates(client, sales, settings):
    from kpis.views import drill as views

    views.DRILL_PAGE_SIZE, old = 2, views.DRILL_PAGE_SIZE
    try:
        client.force_login(sales.alice.user)
        url = f"/drill/?scope=rep&subject={sales.alice.pk}&metric=calls_made&period=2017-03"
        page = client.get(url + "&page=4").context["page"]
        assert (page.number, page.paginator.num_pages, len(page.object_list)) == (4, 4, 1)
    finally:
        views.DRILL_PAGE_SIZE = old


def test_recompute_now_runs_and_reports_done(client, sales):
    client.force_login(sales.admin)
    assert client.post("/ops/recompute/").status_code == 302
    status = client.get("/ops/recompute/status/").json()
    assert status["state"] == "SUCCESS" and status["done"] == status["total"]
    assert b"SUCCESS" in client.get("/ops/recompute/").content
