"""The pipeline waterfall page (/pipeline/waterfall/): the bars and the deals behind each, who may
see which subject, its defaults, bad input, and a constant number of queries.

Figures: tests/waterfall_deals.py's hand-worked 2025-Q4 (East: opening 22,000, closing 20,000)."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kpis.charts import waterfall_chart
from kpis.models import Opportunity
from kpis.periods import Period
from tests.factories import RepFactory, StageFactory, TeamFactory, UserFactory
from tests.waterfall_deals import quarter_deals

pytestmark = pytest.mark.django_db

URL = "/pipeline/waterfall/"


@pytest.fixture
def deals(org):
    return quarter_deals(org)


def page(client, user, query=""):
    client.force_login(user)
    return client.get(f"{URL}?{query}")


def test_a_manager_sees_the_teams_bars_and_the_deals_of_the_first_movement(client, org, deals):
    response = page(client, org.east_manager, f"scope=team&subject={org.east.pk}&period=2025-Q4")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<svg class="chart waterfall"' in body
    legend = response.context["legend"]
    # The legend, bar by bar: hand-worked in tests/waterfall_deals.py.
    assert [(bar.key, bar.amount) for bar, _ in legend] == [
        ("opening", Decimal(22000)),
        ("created", Decimal(1000)),
        ("pulled_in", Decimal(4500)),
        ("increased", Decimal(1000)),
        ("decreased", Decimal(500)),
        ("pushed_out", Decimal(2000)),
        ("won", Decimal(1000)),
        ("lost", Decimal(5000)),
        ("closing", Decimal(20000)),
    ]
    assert "From USD 22,000.00 to USD 20,000.00" in body
    assert "− USD 5,000.00" in body  # lost, with its sign
    # No bar asked for: the first movement with deals, Created.
    assert response.context["shown"].key == "created"
    assert "Created: 1 deal, USD 1,000.00" in body and "New-won" in body


def test_a_bar_shows_its_own_deals(client, org, deals):
    response = page(
        client, org.east_manager, f"scope=team&subject={org.east.pk}&period=2025-Q4&show=pushed_out"
    )
    body = response.content.decode()
    assert "Pushed out: 1 deal, USD 2,000.00" in body
    table = body.split('data-testid="deals"')[1]
    assert "Pushed" in table and "Alice" in table and "Steady" not in table
    # Each bar and legend entry links to its table.
    assert f"?scope=team&amp;subject={org.east.pk}&amp;period=2025-Q4&amp;show=lost#deals" in body


def test_the_deals_link_to_the_admin_for_admins_only(client, org, deals):
    query = f"scope=team&subject={org.east.pk}&period=2025-Q4&show=lost"
    admin_link = f'href="/admin/kpis/opportunity/{deals["Grown-lost"].pk}/change/"'
    assert admin_link in page(client, org.admin, query).content.decode()
    assert admin_link not in page(client, org.east_manager, query).content.decode()


@pytest.mark.parametrize(
    ("who", "name"),
    [("alice", "Alice"), ("east_manager", "East"), ("boss", "Region"), ("admin", "Company")],
)
def test_without_a_subject_each_sees_their_own_this_quarter(client, org, who, name):
    user = getattr(org, who)
    response = page(client, getattr(user, "user", user))
    assert response.status_code == 200
    this_quarter = f"{timezone.localdate().year}-Q{(timezone.localdate().month - 1) // 3 + 1}"
    assert f'<span class="sub">{name} · {this_quarter}</span>' in response.content.decode()


def test_a_rep_sees_only_their_own(client, org, deals):
    alice = org.alice.user
    own = page(client, alice, f"scope=rep&subject={org.alice.pk}&period=2025-Q4&show=closing")
    assert own.status_code == 200 and "Steady" in own.content.decode()
    assert page(client, alice, f"scope=rep&subject={org.bob.pk}&period=2025-Q4").status_code == 404
    assert page(client, alice, f"scope=team&subject={org.east.pk}&period=2025-Q4").status_code == 404
    assert page(client, alice, "scope=company&period=2025-Q4").status_code == 404


def test_an_outsider_gets_404_and_sees_nothing(client, org, deals):
    for query in (f"scope=team&subject={org.east.pk}&period=2025-Q4", "", "scope=company"):
        response = page(client, org.outsider, query)
        assert response.status_code == 404
        assert "Pushed" not in response.content.decode()
    other = page(client, org.west_manager, f"scope=team&subject={org.east.pk}&period=2025-Q4")
    assert other.status_code == 404


def test_signing_in_comes_first(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "scope=team&subject={east}&period=2025-Q9",
            "&#x27;2025-Q9&#x27; is not a period: use 2017-03, 2017-Q1 or 2017.",
        ),
        (
            "scope=galaxy&subject={east}&period=2025-Q4",
            "&#x27;galaxy&#x27; is not a scope: use rep, team or company.",
        ),
        ("scope=team&period=2025-Q4", "Name the team by its id (subject=)."),
        ("scope=team&subject=abc&period=2025-Q4", "Name the team by its id (subject=)."),
    ],
)
def test_bad_input_gets_a_clear_message(client, org, query, message):
    response = page(client, org.east_manager, query.format(east=org.east.pk))
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_period_that_has_not_begun_says_so(client, org):
    next_year = timezone.localdate().year + 1
    response = page(client, org.east_manager, f"scope=team&subject={org.east.pk}&period={next_year}-Q1")
    assert response.status_code == 200
    assert (
        f"{next_year}-Q1 has not begun: its waterfall starts on {next_year}-01-01."
        in response.content.decode()
    )
    assert "<svg" not in response.content.decode().split("<main")[1]


def test_the_dashboard_and_the_scorecard_link_to_it(client, org):
    client.force_login(org.east_manager)
    dashboard = client.get(f"/dashboard/?team={org.east.pk}&period=2025-Q4").content.decode()
    assert f"/pipeline/waterfall/?scope=team&amp;subject={org.east.pk}&amp;period=2025-Q4" in dashboard
    scorecard = client.get(f"/scorecard/{org.alice.pk}/?period=2025-11").content.decode()
    assert f"/pipeline/waterfall/?scope=rep&amp;subject={org.alice.pk}&amp;period=2025-11" in scorecard


def build_team(size: int):
    """A team of `size` reps, each with two deals opened before this quarter: one grown today."""
    manager = UserFactory(username=f"manager{size}")
    team = TeamFactory(name=f"Team {size}", manager=manager)
    reps = RepFactory.create_batch(size, team=team)  # saved one by one: their memberships too
    stage = StageFactory()
    opened = Period.containing("quarter", timezone.localdate()).start - dt.timedelta(days=10)
    Opportunity.objects.bulk_create(
        Opportunity(name=f"Deal {r.pk}-{n}", rep=r, stage=stage, amount=Decimal(1000), created_on=opened)
        for r in reps
        for n in range(2)
    )
    Opportunity.objects.filter(rep__team=team, name__endswith="-0").update(amount=F("amount") + 1)
    return manager, team


def test_the_page_runs_as_many_queries_for_50_reps_as_for_5(client):
    counts = []
    for size in (5, 50):
        manager, team = build_team(size)
        client.force_login(manager)
        for query in (f"scope=team&subject={team.pk}", f"scope=team&subject={team.pk}&show=opening"):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(f"{URL}?{query}")
            assert response.status_code == 200
            counts.append(len(ctx.captured_queries))
        fall = response.context["fall"]
        assert fall.opening.count == 2 * size and fall.bar("increased").count == size
    assert counts[:2] == counts[2:], counts


def test_a_bar_of_many_deals_is_read_a_page_at_a_time(client):
    manager, team = build_team(60)  # 120 deals in the opening at 1,000; 60 grown today by 1
    client.force_login(manager)

    statements = []

    def listed(query):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{URL}?scope=team&subject={team.pk}{query}")
        assert response.status_code == 200
        statements.append(len(ctx.captured_queries))
        page, shown = response.context["page"], response.context["shown"]
        return shown.key, page.number, page.paginator.num_pages, [d.name for d in page]

    opening = sorted(Opportunity.objects.filter(rep__team=team), key=lambda d: d.pk)
    grown = [d.name for d in opening if d.name.endswith("-0")]
    # No bar asked for: the first movement with deals, Increased; its next page carries no bar.
    assert listed("") == ("increased", 1, 2, grown[:50])
    assert listed("&page=2") == ("increased", 2, 2, grown[50:])
    assert statements[0] == statements[1]  # the default bar's next page is not worked out twice
    # Equal amounts: by deal id. A page past the last is the last; a bad one the first.
    assert listed("&show=opening&page=2") == ("opening", 2, 3, [d.name for d in opening[50:100]])
    assert listed("&show=opening&page=9") == ("opening", 3, 3, [d.name for d in opening[100:]])
    assert listed("&show=opening&page=x") == ("opening", 1, 3, [d.name for d in opening[:50]])


def test_the_chart_floats_each_movement_from_the_running_total():
    # Opening 100, +50, −30, closing 120: on a 0–150 axis (ticks of 50) over x = 150…556, a unit
    # of money is 406 / 150 user units. The +50 bar runs 100 → 150, the −30 one 120 → 150.
    svg = str(
        waterfall_chart(
            [
                ("Opening", Decimal(100), "total", "#o"),
                ("Created", Decimal(50), "up", "#c"),
                ("Lost", Decimal(30), "down", "#l"),
                ("Closing", Decimal(120), "total", "#e"),
            ],
            label="Waterfall",
            fmt=str,
        )
    )
    bars = re.findall(r'<rect x="([\d.]+)" y="\d+" width="([\d.]+)" height="22" fill="(#\w+)"', svg)
    unit = 406 / 150
    expected = [(0, 100, "#475569"), (100, 50, "#15803d"), (120, 30, "#b91c1c"), (0, 120, "#475569")]
    for (x, width, fill), (start, amount, colour) in zip(bars, expected, strict=True):
        assert float(x) == pytest.approx(150 + start * unit, abs=0.1)
        assert float(width) == pytest.approx(amount * unit, abs=0.1)
        assert fill == colour
    assert "<title>Lost: −30</title>" in svg and 'href="#l"' in svg
    assert "<desc>Opening 100; Created 50; Lost 30; Closing 120</desc>" in svg
