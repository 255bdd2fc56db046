"""Targets through the API: a script with a token sets, reads and changes what it may, nothing else."""

from decimal import Decimal as D

import pytest

from targets.models import Target
from tests.factories import TargetFactory

URL = "/api/v1/targets/"


@pytest.fixture
def alice_target(org):
    return TargetFactory(
        scope="rep",
        rep=org.alice,
        metric="revenue_won",
        period_kind="quarter",
        period_start="2017-01-01",
        value=D("9000"),
    )


def test_a_manager_sets_a_target_for_a_rep_below_them(org, client_as):
    response = client_as("manager").post(
        URL,
        {
            "scope": "rep",
            "subject": org.alice.pk,
            "metric": "calls_made",
            "period": "2017-Q1",
            "value": "120",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["period"] == "2017-Q1"
    assert Target.objects.get(rep=org.alice, metric="calls_made").value == 120


def test_a_manager_cannot_set_a_target_outside_their_subtree(org, client_as):
    response = client_as("manager").post(
        URL,
        {"scope": "rep", "subject": org.carol.pk, "metric": "calls_made", "period": "2017-Q1", "value": "1"},
        format="json",
    )
    assert response.status_code == 400
    assert "subject" in response.json()
    assert not Target.objects.exists()


def test_a_rep_cannot_set_targets_not_even_their_own(org, client_as):
    response = client_as("rep").post(
        URL,
        {"scope": "rep", "subject": org.alice.pk, "metric": "calls_made", "period": "2017-Q1", "value": "1"},
        format="json",
    )
    assert response.status_code == 403
    assert not Target.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metric": "nope", "period": "2017-Q1", "value": "1"}, "metric"),
        ({"metric": "calls_made", "period": "2017-Q5", "value": "1"}, "period"),
        ({"metric": "calls_made", "period": "2017-Q1", "value": "-1"}, "value"),
        ({"metric": "win_rate", "period": "2017-Q1", "value": "1.5"}, "value"),
    ],
)
def test_bad_input_is_a_400_on_its_field_and_writes_nothing(org, client_as, body, field):
    response = client_as("manager").post(
        URL, {"scope": "rep", "subject": org.alice.pk, **body}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Target.objects.exists()


def test_a_duplicate_is_refused(org, client_as, alice_target):
    body = {
        "scope": "rep",
        "subject": org.alice.pk,
        "metric": "revenue_won",
        "period": "2017-Q1",
        "value": "1",
    }
    response = client_as("manager").post(URL, body, format="json")
    assert response.status_code == 400
    assert Target.objects.get().value == D("9000")


@pytest.mark.parametrize(
    ("role", "seen"), [("rep", 1), ("other_rep", 0), ("manager", 1), ("other_manager", 0), ("admin", 1)]
)
def test_who_sees_a_reps_target(client_as, alice_target, role, seen):
    response = client_as(role).get(URL)
    assert response.status_code == 200
    assert response.json()["count"] == seen


def test_a_manager_changes_a_value_and_cannot_move_the_target(org, client_as, alice_target):
    client = client_as("manager")
    assert client.patch(f"{URL}{alice_target.pk}/", {"value": "9500"}, format="json").status_code == 200
    alice_target.refresh_from_db()
    assert alice_target.value == D("9500")
    moved = client.patch(f"{URL}{alice_target.pk}/", {"period": "2017-Q2"}, format="json")
    assert moved.status_code == 400 and "period" in moved.json()


def test_another_manager_gets_404_for_it(client_as, alice_target):
    assert client_as("other_manager").delete(f"{URL}{alice_target.pk}/").status_code == 404
    assert Target.objects.filter(pk=alice_target.pk).exists()


def test_the_scorecard_shows_target_attainment_and_status(org, client_as, alice_target, deal, recompute):
    deal(org.alice, "won", "4500", "2017-01-05", "2017-02-10")  # half of the 9000 quarter target
    recompute()
    response = client_as("manager").get(
        "/api/v1/scorecard/", {"scope": "rep", "subject": org.alice.pk, "period": "2017-Q1"}
    )
    assert response.status_code == 200
    revenue = next(m for m in response.json()["metrics"] if m["metric"] == "revenue_won")
    assert D(revenue["target"]) == D("9000")
    assert D(revenue["attainment"]) == D("0.5")
    # The quarter is over (today is long after it): half of it is missed.
    assert revenue["status"] == "missed"
