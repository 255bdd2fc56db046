"""/api/v1/opportunities/: expected_close_on is read and written like the other dates, and each
deal carries its history — recorded as the API user's, shown to those who may see the deal."""

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from kpis.models import OpportunityState
from tests.factories import OpportunityFactory, won_stage


def token_client(username):
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"username": username, "password": "pw"}).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_patch_with_a_token_records_a_state_by_the_tokens_user(org, alices):
    deal = alices.opportunity

    response = token_client("east_manager").patch(
        f"/api/v1/opportunities/{deal.pk}/",
        {"amount": "250.00", "expected_close_on": "2017-05-31"},
        format="json",
    )

    assert response.status_code == 200, response.content
    first, changed = OpportunityState.objects.filter(opportunity=deal).order_by("recorded_at", "id")
    assert first.recorded_by is None and first.until == changed.since  # the factory's insert
    assert (changed.amount, changed.expected_close_on) == (Decimal("250.00"), dt.date(2017, 5, 31))
    assert changed.recorded_by == org.east_manager and changed.until is None
    # The answer already carries the new state.
    history = response.json()["history"]
    assert [(s["amount"], s["expected_close_on"], s["recorded_by"]) for s in history] == [
        (str(deal.amount), None, None),
        ("250.00", "2017-05-31", "east_manager"),
    ]


def test_a_session_patch_records_the_signed_in_user(org, alices):
    client = APIClient()
    client.login(username="admin", password="pw")

    client.patch(f"/api/v1/opportunities/{alices.opportunity.pk}/", {"amount": "9.00"}, format="json")

    assert OpportunityState.objects.get(opportunity=alices.opportunity, until=None).recorded_by == org.admin


def test_a_deal_reads_back_its_history_oldest_first(org, alices, client_as):
    deal = alices.opportunity
    OpportunityState.objects.filter(opportunity=deal).update(since=None)  # from its opening
    deal.amount = Decimal("70")
    deal.save()

    history = client_as("rep").get(f"/api/v1/opportunities/{deal.pk}/").json()["history"]

    assert [s["amount"] for s in history] == [f"{alices.opportunity.states.first().amount:.2f}", "70.00"]
    assert history[0]["since"] is None and history[-1]["until"] is None
    assert history[0]["until"] == history[1]["since"]
    assert {s["rep_name"] for s in history} == {"Alice"}


def test_a_former_owner_outside_the_readers_view_is_shown_by_id_only(org, client_as):
    deal = OpportunityFactory(rep=org.carol)  # west
    deal.rep = org.alice
    deal.save()

    history = client_as("manager").get(f"/api/v1/opportunities/{deal.pk}/").json()["history"]

    assert [(s["rep"], s["rep_name"]) for s in history] == [(org.carol.pk, None), (org.alice.pk, "Alice")]


def test_an_outsider_cannot_read_another_reps_deal_history(org, alices, client_as):
    for role in ("other_rep", "other_manager"):
        client = client_as(role)
        detail = client.get(f"/api/v1/opportunities/{alices.opportunity.pk}/")
        listed = client.get("/api/v1/opportunities/").json()["results"]

        assert detail.status_code == 404, role
        assert alices.opportunity.pk not in {row["id"] for row in listed}, role


def test_expected_close_on_is_validated_like_the_other_dates_and_a_refused_write_records_nothing(
    org, alices, client_as
):
    deal = alices.opportunity
    client = client_as("manager")

    bad = client.patch(
        f"/api/v1/opportunities/{deal.pk}/", {"expected_close_on": "1899-12-31"}, format="json"
    )
    garbled = client.patch(
        f"/api/v1/opportunities/{deal.pk}/", {"expected_close_on": "31/01/2017"}, format="json"
    )

    assert bad.status_code == garbled.status_code == 400
    assert list(bad.json()) == list(garbled.json()) == ["expected_close_on"]
    assert OpportunityState.objects.filter(opportunity=deal).count() == 1


def test_a_created_deal_starts_its_history_by_its_creator(org, alices, client_as):
    payload = {
        "rep": org.alice.pk,
        "stage": alices.stage.pk,
        "amount": "10.00",
        "created_on": "2017-01-02",
        "expected_close_on": "2017-02-28",
    }

    response = client_as("manager").post("/api/v1/opportunities/", payload, format="json")

    assert response.status_code == 201, response.content
    [state] = response.json()["history"]
    assert (state["since"], state["expected_close_on"], state["recorded_by"]) == (
        None,
        "2017-02-28",
        "east_manager",
    )


def test_deals_filter_by_expected_close_date(org, alices, client_as):
    OpportunityFactory(rep=org.alice, expected_close_on=dt.date(2017, 3, 15))
    OpportunityFactory(rep=org.alice, expected_close_on=dt.date(2017, 4, 15))

    march = client_as("manager").get(
        "/api/v1/opportunities/",
        {"expected_close_on_after": "2017-03-01", "expected_close_on_before": "2017-03-31"},
    )

    assert [row["expected_close_on"] for row in march.json()["results"]] == ["2017-03-15"]


def test_a_won_stage_without_a_close_date_is_refused_and_records_nothing(org, alices, client_as):
    deal = alices.opportunity

    response = client_as("manager").patch(
        f"/api/v1/opportunities/{deal.pk}/", {"stage": won_stage().pk}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["closed_on"]
    assert OpportunityState.objects.filter(opportunity=deal).count() == 1


def test_the_list_reads_every_deals_history_in_one_query_however_long(org, client_as):
    def deals_with_history(n):
        for _ in range(n):
            deal = OpportunityFactory(rep=org.carol)
            for owner in (org.alice, org.bob, org.alice):  # three more states, two former owners
                deal.rep = owner
                deal.save()

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client_as("manager").get("/api/v1/opportunities/")
        return len(captured), sum(len(row["history"]) for row in response.json()["results"])

    deals_with_history(2)
    few, states_few = queries()
    deals_with_history(10)
    many, states_many = queries()

    assert (states_few, states_many) == (8, 48)
    assert many == few
