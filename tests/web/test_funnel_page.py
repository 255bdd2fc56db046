"""The stage funnel page (/pipeline/funnel/): the figures of tests/kpis/test_funnel.py's deals as
a manager and a rep read them, who may open whose, bad input, and a constant number of queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kpis import deal_history
from kpis.charts import funnel_chart
from kpis.models import Opportunity, OpportunityState
from teams.subjects import COMPANY, Subject
from tests.factories import RepFactory, TeamFactory, UserFactory
from tests.kpis.test_funnel import TODAY, funnel_stages, with_deals

pytestmark = pytest.mark.django_db

URL = "/pipeline/funnel/"


@pytest.fixture
def funnel_deals(org):
    return with_deals(org)


@pytest.fixture(autouse=True)
def on_31_march_2017(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)


def get(client, user, **query):
    client.force_login(user)
    return client.get(URL, query)


def test_a_manager_reads_the_teams_funnel_days_in_stage_and_slips(client, funnel_deals):
    w = funnel_deals
    response = get(client, w.east_manager, scope="team", subject=w.east.pk, period="2017-Q1")
    assert response.status_code == 200
    body = response.content.decode()
    # 6 opened; Prospecting 6 → Engaging 5 (83.3%) → Proposal 3 (60%) → Won 2 (66.7%).
    assert [(s.name, s.reached) for s in response.context["funnel"].steps] == [
        ("Prospecting", 6),
        ("Engaging", 5),
        ("Proposal", 3),
        ("Won", 2),
    ]
    for shown in ("Engaging: 5", "83.3% of Prospecting", "60% of Engaging", "66.7% of Proposal"):
        assert shown in body  # the chart's labels
    # Median days: Prospecting 10, Engaging 20, Proposal 10.
    assert [shown for _, shown in response.context["days"]] == ["10.0 d", "20.0 d", "10.0 d"]
    assert "2 of these deals slipped: the expected close date moved later 3 times in all." in body
    assert "A4" in body and "2017-05-31" in body


def test_an_undefined_conversion_is_shown_as_undefined_not_0_percent(client, funnel_deals):
    w = funnel_deals
    response = get(client, w.alice.user, scope="rep", subject=w.alice.pk, period="2017-02")
    body = response.content.decode()
    # Nobody of A3, A4 reached Proposal: 0 of 1 is 0%, but Won from Proposal is 0 of 0.
    assert "0% of Engaging" in body
    assert "undefined: none reached Proposal" in body
    assert 'title="Undefined: no deal reached the step before.">—' in body
    assert 'title="Undefined: no deal has left Proposal yet.">—' in body


def test_without_a_subject_a_manager_sees_their_team_a_rep_their_own_this_quarter(client, funnel_deals):
    w = funnel_deals
    for user, subject in [
        (w.east_manager, Subject.team(w.east.pk)),
        (w.alice.user, Subject.rep(w.alice.pk)),
        (w.admin, COMPANY),
    ]:
        response = get(client, user)
        assert (response.context["subject"], response.context["period"].label) == (subject, "2017-Q1")


def test_a_rep_sees_only_their_own_and_an_outsider_nothing(client, funnel_deals):
    w = funnel_deals
    for user, query in [
        (w.alice.user, {"scope": "rep", "subject": w.bob.pk}),
        (w.alice.user, {"scope": "team", "subject": w.east.pk}),
        (w.alice.user, {"scope": "company"}),
        (w.west_manager, {"scope": "team", "subject": w.east.pk}),
        (w.outsider, {"scope": "rep", "subject": w.alice.pk}),
        (w.outsider, {}),
    ]:
        response = get(client, user, period="2017-Q1", **query)
        assert response.status_code == 404, (user, query)
        assert b"A4" not in response.content


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"period": "2017-13"}, "&#x27;2017-13&#x27; is not a period: use 2017-03, 2017-Q1 or 2017."),
        ({"period": "9999"}, "&#x27;9999&#x27; is out of range: use a period from 1900 to 2100."),
        ({"scope": "nation", "subject": "1"}, "&#x27;nation&#x27; is not a scope: use rep, team or company."),
        ({"scope": "team", "subject": "abc"}, "Name the team by its id (subject=)."),
    ],
)
def test_bad_input_is_said_on_the_page(client, funnel_deals, query, message):
    response = get(client, funnel_deals.east_manager, **query)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_dashboard_and_the_scorecard_link_to_the_funnel(client, funnel_deals):
    w = funnel_deals
    client.force_login(w.east_manager)
    dashboard = client.get(f"/dashboard/?team={w.east.pk}&period=2017-Q1").content.decode()
    assert f'href="/pipeline/funnel/?scope=team&amp;subject={w.east.pk}&amp;period=2017-Q1"' in dashboard
    scorecard = client.get(f"/scorecard/{w.alice.pk}/?period=2017-Q1").content.decode()
    assert f'href="/pipeline/funnel/?scope=rep&amp;subject={w.alice.pk}&amp;period=2017-Q1"' in scorecard


def build_team(size: int, stages):
    """A team of `size` reps, each with a deal opened in 2017-01 that went Prospecting → Engaging
    (expected close moved later on the way), the deals written in bulk."""
    manager = UserFactory(username=f"manager{size}")
    team = TeamFactory(name=f"Team {size}", manager=manager)
    reps = RepFactory.create_batch(size, team=team)  # each with its membership
    Opportunity.objects.bulk_create(
        Opportunity(
            name=f"Deal {size}-{i}",
            rep=rep,
            stage=stages["Engaging"],
            amount=1000,
            created_on=dt.date(2017, 1, 2),
            expected_close_on=dt.date(2017, 5, 1),
        )
        for i, rep in enumerate(reps)
    )
    moved = deal_history.day_start(dt.date(2017, 1, 20))
    deal_history.states_load(
        [
            OpportunityState(
                opportunity=deal,
                since=since,
                until=until,
                stage=stages[stage],
                amount=deal.amount,
                expected_close_on=expected,
                rep=deal.rep,
                recorded_at=moved,
            )
            for deal in Opportunity.objects.filter(rep__team=team).select_related("rep")
            for since, until, stage, expected in [
                (None, moved, "Prospecting", dt.date(2017, 4, 1)),
                (moved, None, "Engaging", dt.date(2017, 5, 1)),
            ]
        ]
    )
    return manager, team


def test_the_page_runs_as_many_queries_for_50_reps_as_for_5(client, db):
    stages, counts = funnel_stages(), []
    for size in (5, 50):
        manager, team = build_team(size, stages)
        client.force_login(manager)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(URL, {"scope": "team", "subject": team.pk, "period": "2017-Q1"})
        assert response.context["funnel"].opened == size
        assert response.context["funnel"].slips == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_the_funnel_chart_draws_a_bar_per_step_over_whole_ticks():
    svg = funnel_chart([("Prospecting", 6, "of 6 opened"), ("Won", 2, "33.3% of Prospecting")], label="F")
    # Ticks 0, 2, 4, 6 across 472 units (480 less 4 each side): 6 deals 472 wide, 2 deals a third.
    for tick in ("0", "2", "4", "6"):
        assert f'text-anchor="middle">{tick}</text>' in svg
    assert 'width="472.0" height="20"><title>Prospecting: 6 (of 6 opened)</title>' in svg
    assert 'width="157.3" height="20"><title>Won: 2 (33.3% of Prospecting)</title>' in svg
    assert 'role="img" aria-label="F"' in svg


def test_slipped_deals_come_fifty_a_page(client, db):
    manager, team = build_team(60, funnel_stages())  # each deal slipped once
    client.force_login(manager)
    deals = list(Opportunity.objects.filter(rep__team=team).order_by("pk").values_list("name", flat=True))

    def listed(page):
        response = client.get(URL, {"scope": "team", "subject": team.pk, "period": "2017-Q1", "page": page})
        body = response.content.decode()
        assert "60 of these deals slipped: the expected close date moved later 60 times in all." in body
        shown = response.context["page"]
        return shown.number, shown.paginator.num_pages, [s.deal for s in shown]

    # All slipped once: the oldest deal first. A page past the last is the last.
    assert listed(1) == (1, 2, deals[:50])
    assert listed(2) == listed(7) == (2, 2, deals[50:])
