"""The scorecard and the metric catalogue."""

import datetime as dt
from decimal import Decimal

import pytest

from kpis import catalogue
from tests.factories import KpiSnapshotFactory, TargetFactory

Q1 = dt.date(2017, 1, 1)


def scorecard(client, **params):
    return client.get("/api/v1/scorecard/", params)


@pytest.fixture
def alices_q1(org):
    KpiSnapshotFactory(
        scope="rep", subject_id=org.alice.pk, metric="revenue_won", period_kind="quarter", period_start=Q1
    )
    KpiSnapshotFactory(
        scope="rep",
        subject_id=org.alice.pk,
        metric="win_rate",
        period_kind="quarter",
        period_start=Q1,
        numerator=Decimal(2),
        denominator=Decimal(3),
        value=Decimal("0.666667"),
    )
    KpiSnapshotFactory(
        scope="rep", subject_id=org.alice.pk, metric="win_rate", period_kind="month", period_start=Q1
    )


def test_a_scorecard_lists_every_metric_with_its_snapshot_figures(org, alices_q1, client_as):
    response = scorecard(client_as("rep"), scope="rep", subject=org.alice.pk, period="2017-Q1")

    assert response.status_code == 200
    card = response.json()
    assert {k: card[k] for k in ["scope", "subject", "name", "period", "period_start", "period_end"]} == {
        "scope": "rep",
        "subject": org.alice.pk,
        "name": "Alice",
        "period": "2017-Q1",
        "period_start": "2017-01-01",
        "period_end": "2017-03-31",
    }
    rows = {row["metric"]: row for row in card["metrics"]}
    assert list(rows) == catalogue.KEYS
    assert rows["win_rate"] == {
        "metric": "win_rate",
        "label": "Win rate",
        "unit": "ratio",
        "higher_is_better": True,
        "value": "0.666667",
        "numerator": "2.000000",
        "denominator": "3.000000",
        "computed_at": rows["win_rate"]["computed_at"],
        "target": None,
        "attainment": None,
        "pace": None,
        "status": None,
    }
    assert rows["revenue_won"]["value"] == "1000.000000"
    assert rows["deals_won"]["value"] is None and rows["deals_won"]["computed_at"] is None


@pytest.mark.parametrize(
    ("who", "scope", "subject", "status"),
    [
        ("rep", "rep", "alice", 200),
        ("other_rep", "rep", "alice", 404),
        ("manager", "rep", "alice", 200),
        ("other_manager", "rep", "alice", 404),
        ("manager", "team", "east", 200),
        ("other_manager", "team", "east", 404),
        ("rep", "team", "east", 404),
        ("manager", "company", None, 404),
        ("admin", "company", None, 200),
        ("admin", "rep", "missing", 404),
        ("anonymous", "rep", "alice", 401),
    ],
)
def test_a_scorecard_is_only_for_a_subject_you_may_see(org, client_as, who, scope, subject, status):
    subject_id = {"alice": org.alice.pk, "east": org.east.pk, "missing": 10**6, None: None}[subject]
    params = {"scope": scope, "period": "2017-01"} | ({"subject": subject_id} if subject_id else {})

    assert scorecard(client_as(who), **params).status_code == status


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"scope": "rep", "period": "2017-Q1"}, "subject"),
        ({"scope": "rep", "subject": 1, "period": "2017-Q9"}, "period"),
        ({"scope": "rep", "subject": 1, "period": "50%s"}, "period"),
        ({"scope": "region", "subject": 1, "period": "2017"}, "scope"),
        ({"scope": "rep", "subject": "x", "period": "2017"}, "subject"),
    ],
)
def test_a_malformed_scorecard_request_is_a_400(org, client_as, params, field):
    response = scorecard(client_as("admin"), **params)

    assert response.status_code == 400
    assert field in response.json()


def test_the_catalogue_lists_every_metric_and_each_by_key(org, client_as):
    client = client_as("rep")

    listed = client.get("/api/v1/metrics/").json()
    one = client.get("/api/v1/metrics/cac/").json()

    assert [m["key"] for m in listed] == catalogue.KEYS
    assert one == {
        "key": "cac",
        "label": "CAC",
        "unit": "money",
        "higher_is_better": False,
        "definition": catalogue.get("cac").definition,
    }
    assert client.get("/api/v1/metrics/nope/").status_code == 404


def test_the_api_and_the_page_show_the_same_scorecard(org, alices_q1, client_as, client):
    TargetFactory(rep=org.alice, metric="revenue_won", period_kind="quarter", period_start=Q1, value=2000)

    api_rows = {
        row["metric"]: row
        for row in scorecard(client_as("rep"), scope="rep", subject=org.alice.pk, period="2017-Q1").json()[
            "metrics"
        ]
    }
    client.force_login(org.alice.user)
    page_rows = {s.row.metric.key: s.row for s in client.get("/scorecard/?period=2017-Q1").context["rows"]}

    assert api_rows["revenue_won"]["target"] == "2000.000000"
    assert api_rows["revenue_won"]["attainment"] == f"{page_rows['revenue_won'].attainment:.6f}" == "0.500000"
    for key, row in page_rows.items():
        assert api_rows[key]["value"] == (None if row.value is None else f"{row.value:.6f}")
        assert api_rows[key]["status"] == row.status
