"""Filters narrow what a user may see; they never widen it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import (
    ActivityFactory,
    CustomerFactory,
    KpiSnapshotFactory,
    OpportunityFactory,
    RepFactory,
    TeamFactory,
    lost_stage,
    won_stage,
)


@pytest.fixture
def deals(org):
    """Each rep's deals; Dave sits in East North, below East."""
    north = TeamFactory(name="East North", parent=org.east)
    dave = RepFactory(full_name="Dave", team=north)
    won, lost = won_stage(), lost_stage()

    def deal(rep, name, stage=won, closed="2017-02-10", amount="1000"):
        return OpportunityFactory(
            rep=rep,
            name=name,
            stage=stage,
            amount=Decimal(amount),
            created_on=dt.date(2017, 1, 5),
            closed_on=dt.date.fromisoformat(closed),
        )

    deal(org.alice, "Alpha", amount="5000")
    deal(org.alice, "Aloha", stage=lost, closed="2017-03-20")
    deal(org.bob, "Bravo", closed="2017-04-02")
    deal(org.carol, "Charlie")
    deal(dave, "Delta")
    return dave


def names(response):
    assert response.status_code == 200, response.content
    return sorted(row["name"] for row in response.json()["results"])


def get(client, path, **params):
    return client.get(f"/api/v1/{path}/", params)


def test_a_team_filter_takes_the_whole_subtree(org, deals, client_as):
    boss = client_as(org.boss)

    everyone = ["Aloha", "Alpha", "Bravo", "Charlie", "Delta"]

    assert names(get(boss, "opportunities", team_id=org.region.pk)) == everyone
    assert names(get(boss, "opportunities", team_id=org.east.pk)) == ["Aloha", "Alpha", "Bravo", "Delta"]
    assert names(get(boss, "opportunities", team_id=deals.team_id)) == ["Delta"]
    assert names(get(boss, "teams", team_id=org.east.pk)) == ["East", "East North"]
    reps = get(boss, "reps", team_id=org.east.pk).json()["results"]
    assert sorted(rep["full_name"] for rep in reps) == ["Alice", "Bob", "Dave"]


@pytest.mark.parametrize(
    ("who", "param", "value"),
    [
        ("manager", "rep_id", "carol"),
        ("manager", "team_id", "west"),
        ("rep", "rep_id", "bob"),
        ("rep", "team_id", "west"),
        ("other_manager", "customer_id", "alices_customer"),
    ],
)
def test_a_filter_on_something_you_may_not_see_matches_nothing(org, deals, client_as, who, param, value):
    target = {
        "carol": org.carol,
        "west": org.west,
        "bob": org.bob,
        "alices_customer": CustomerFactory(owner=org.alice),
    }[value]
    OpportunityFactory(rep=org.alice, customer=target if value == "alices_customer" else None)

    response = get(client_as(who), "opportunities", **{param: target.pk})

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_a_rep_filtering_on_herself_or_her_team_sees_her_own(org, deals, client_as):
    assert names(get(client_as("rep"), "opportunities", rep_id=org.alice.pk)) == ["Aloha", "Alpha"]
    assert names(get(client_as("rep"), "opportunities", team_id=org.east.pk)) == ["Aloha", "Alpha"]


def test_dates_outcome_amount_and_search(org, deals, client_as):
    admin = client_as("admin")

    in_q1 = get(admin, "opportunities", closed_on_after="2017-01-01", closed_on_before="2017-03-31")
    assert names(in_q1) == ["Aloha", "Alpha", "Charlie", "Delta"]
    assert names(get(admin, "opportunities", outcome="lost")) == ["Aloha"]
    assert names(get(admin, "opportunities", stage="won", amount_min="2000")) == ["Alpha"]
    assert names(get(admin, "opportunities", q="al")) == ["Aloha", "Alpha"]


def test_ordering_and_pages(org, deals, client_as):
    admin = client_as("admin")

    by_amount = get(admin, "opportunities", ordering="-amount,name", page_size=2)
    body = by_amount.json()

    assert [row["name"] for row in body["results"]] == ["Alpha", "Aloha"]
    assert body["count"] == 5 and body["next"]
    assert get(admin, "opportunities", page=99).status_code == 404
    assert len(get(admin, "opportunities", page_size=10_000).json()["results"]) == 5


@pytest.mark.parametrize(
    ("param", "value", "key"),
    [
        ("rep_id", "abc", "rep_id"),
        ("rep_id", "1.5", "rep_id"),
        ("rep_id", "-1", "rep_id"),
        ("team_id", str(2**64), "team_id"),
        ("closed_on_after", "yesterday", "closed_on"),
        ("outcome", "maybe", "outcome"),
        ("amount_min", "1e400", "amount_min"),
    ],
)
def test_a_malformed_filter_is_a_400_naming_the_parameter(org, client_as, param, value, key):
    response = get(client_as("admin"), "opportunities", **{param: value})

    assert response.status_code == 400
    assert list(response.json()) == [key]


def snapshots(org):
    for kind, start in [
        ("month", dt.date(2017, 1, 1)),
        ("quarter", dt.date(2017, 1, 1)),
        ("year", dt.date(2017, 1, 1)),
    ]:
        for metric in ["revenue_won", "deals_won"]:
            KpiSnapshotFactory(
                scope="rep", subject_id=org.alice.pk, metric=metric, period_kind=kind, period_start=start
            )
    KpiSnapshotFactory(
        scope="rep", subject_id=org.carol.pk, period_kind="quarter", period_start=dt.date(2017, 1, 1)
    )
    KpiSnapshotFactory(
        scope="team", subject_id=org.east.pk, period_kind="quarter", period_start=dt.date(2017, 1, 1)
    )


def test_snapshots_by_period_label_metric_and_team(org, client_as):
    snapshots(org)
    boss = client_as(org.boss)

    def keys(**params):
        response = get(boss, "snapshots", **params)
        assert response.status_code == 200, response.content
        return sorted(
            (r["scope"], r["subject_id"], r["metric"], r["period"]) for r in response.json()["results"]
        )

    assert keys(period="2017-Q1", metric="deals_won") == [("rep", org.alice.pk, "deals_won", "2017-Q1")]
    assert keys(period="2017", metric=["deals_won", "revenue_won"]) == [
        ("rep", org.alice.pk, "deals_won", "2017"),
        ("rep", org.alice.pk, "revenue_won", "2017"),
    ]
    assert keys(period="2017-Q1", team_id=org.east.pk) == [
        ("rep", org.alice.pk, "deals_won", "2017-Q1"),
        ("rep", org.alice.pk, "revenue_won", "2017-Q1"),
        ("team", org.east.pk, "revenue_won", "2017-Q1"),
    ]
    assert keys(period_kind="quarter", scope="team") == [("team", org.east.pk, "revenue_won", "2017-Q1")]
    assert keys(rep_id=org.carol.pk, period_kind="quarter") == [
        ("rep", org.carol.pk, "revenue_won", "2017-Q1")
    ]


def test_a_manager_sees_no_snapshot_outside_the_subtree_whatever_the_filter(org, client_as):
    snapshots(org)
    west = client_as("other_manager")

    assert get(west, "snapshots", rep_id=org.alice.pk).json()["results"] == []
    assert get(west, "snapshots", subject_id=org.east.pk, scope="team").json()["results"] == []
    assert get(west, "snapshots", team_id=org.region.pk).json()["count"] == 1  # Carol's only


@pytest.mark.parametrize(
    "label",
    ["2017-Q5", "Q1-2017", "2017-13", "soon", "99999999999999999999", "2017-99999999999999", "100%", "%s"],
)
def test_a_bad_period_label_is_a_400_that_says_how_to_write_one(org, client_as, label):
    response = get(client_as("admin"), "snapshots", period=label)

    assert response.status_code == 400
    assert response.json() == {"period": [f"'{label}' is not a period: use 2017-03, 2017-Q1 or 2017."]}


def test_activity_days_are_days_in_time_zone(org, client_as, settings):
    settings.TIME_ZONE = "America/New_York"
    late_new_year = ActivityFactory(
        rep=org.alice, occurred_at=timezone.make_aware(dt.datetime(2017, 1, 1, 3, 0), dt.UTC)
    )
    ActivityFactory(rep=org.alice, occurred_at=timezone.make_aware(dt.datetime(2017, 1, 2, 12, 0), dt.UTC))

    on_new_years_eve = get(
        client_as("admin"), "activities", occurred_on_after="2016-12-31", occurred_on_before="2016-12-31"
    )
    far_ends = get(
        client_as("admin"), "activities", occurred_on_after="0001-01-01", occurred_on_before="9999-12-31"
    )

    assert [row["id"] for row in on_new_years_eve.json()["results"]] == [late_new_year.pk]
    assert far_ends.json()["count"] == 2
