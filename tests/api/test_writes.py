"""Writes validate like forms: a bad write is a 400 naming its fields, never a 500."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from kpis.models import AcquisitionSpend, ForecastSubmission, Lead
from tests.factories import CustomerFactory, OpportunityFactory, RepFactory


def post(client, path, payload):
    return client.post(f"/api/v1/{path}/", payload, format="json")


def test_a_manager_cannot_move_a_row_out_of_their_subtree(org, alices, client_as):
    response = client_as("manager").patch(
        f"/api/v1/activities/{alices.activity.pk}/", {"rep": org.carol.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"rep": [f"Unknown id {org.carol.pk}, or not one you may use."]}
    alices.activity.refresh_from_db()
    assert alices.activity.rep == org.alice


def test_a_rep_cannot_point_a_row_at_a_customer_she_may_not_see(org, client_as):
    bobs_customer = CustomerFactory(owner=org.bob)

    response = post(
        client_as("rep"),
        "activities",
        {
            "rep": org.alice.pk,
            "kind": "call",
            "occurred_at": "2017-01-02T10:00:00Z",
            "customer": bobs_customer.pk,
        },
    )

    assert response.status_code == 400
    assert list(response.json()) == ["customer"]


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        (
            "leads",
            {"name": "L", "created_on": "2017-02-01", "converted_on": "2017-01-01"},
            "non_field_errors",
        ),
        ("opportunities", {"amount": "-1"}, "amount"),
        ("opportunities", {"created_on": "2017-02-01", "closed_on": "2017-01-01"}, "non_field_errors"),
        ("customers", {"name": "C", "churned_on": "2017-01-01"}, "non_field_errors"),
        ("nps-responses", {"responded_on": "2017-01-01", "score": 11}, "score"),
        ("stages", {"name": "S", "probability": "1.5"}, "probability"),
        ("activities", {"kind": "fax", "occurred_at": "2017-01-02T10:00:00Z"}, "kind"),
        ("spend", {"spent_on": "2017-01-01", "amount": "1.001"}, "amount"),
    ],
)
def test_a_write_that_breaks_a_rule_of_the_model_is_a_400(org, alices, client_as, path, payload, field):
    defaults = {
        "leads": {"rep": org.alice.pk},
        "opportunities": {"rep": org.alice.pk, "stage": alices.stage.pk, "amount": "1", "name": "O"},
        "customers": {"owner": org.alice.pk},
        "nps-responses": {"customer": alices.customer.pk},
        "activities": {"rep": org.alice.pk},
        "spend": {"rep": org.alice.pk},
    }.get(path, {})

    response = post(client_as("admin"), path, {**defaults, **payload})

    assert response.status_code == 400, response.content
    assert field in response.json()


def test_a_team_cannot_sit_below_itself(org, client_as):
    response = client_as("admin").patch(
        f"/api/v1/teams/{org.region.pk}/", {"parent": org.east.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"parent": ["A team cannot sit below itself."]}


def test_a_user_has_one_rep_and_an_external_id_is_unique(org, alices, client_as):
    admin = client_as("admin")
    OpportunityFactory(rep=org.alice, external_id="X1")

    twice = post(admin, "reps", {"full_name": "Alice 2", "user": org.alice.user.pk, "team": org.east.pk})
    same_id = post(
        admin,
        "opportunities",
        {"rep": org.bob.pk, "stage": alices.stage.pk, "amount": "1", "external_id": "X1"},
    )
    blank_ids = [
        post(
            admin,
            "opportunities",
            {"rep": org.bob.pk, "stage": alices.stage.pk, "amount": "1", "external_id": ""},
        )
        for _ in range(2)
    ]

    assert twice.status_code == 400 and "user" in twice.json()
    assert same_id.status_code == 400 and "external_id" in same_id.json()
    assert [r.status_code for r in blank_ids] == [201, 201]
    assert [r.json()["external_id"] for r in blank_ids] == [None, None]


def test_only_admins_keep_customers_without_an_owner(client_as):
    assert post(client_as("manager"), "customers", {"name": "Orphan"}).json() == {
        "owner": ["Choose an owner among your reps."]
    }
    assert post(client_as("admin"), "customers", {"name": "Orphan"}).status_code == 201


def test_spend_goes_to_a_rep_or_a_team_and_company_spend_is_for_admins(org, client_as):
    both = post(
        client_as("admin"),
        "spend",
        {"rep": org.alice.pk, "team": org.east.pk, "spent_on": "2017-01-01", "amount": "1"},
    )
    nobody_by_manager = post(client_as("manager"), "spend", {"spent_on": "2017-01-01", "amount": "1"})
    team_by_manager = post(
        client_as("manager"), "spend", {"team": org.east.pk, "spent_on": "2017-01-01", "amount": "1"}
    )
    nobody_by_admin = post(client_as("admin"), "spend", {"spent_on": "2017-01-01", "amount": "1"})

    assert both.status_code == 400 and "team" in both.json()
    assert nobody_by_manager.status_code == 400 and "team" in nobody_by_manager.json()
    assert team_by_manager.status_code == 201
    assert nobody_by_admin.status_code == 201
    assert AcquisitionSpend.objects.filter(rep=None, team=None).count() == 1


def test_company_spend_is_seen_by_admins_only(org, client_as):
    company = AcquisitionSpend.objects.create(spent_on=dt.date(2017, 1, 1), amount=1)

    assert client_as("admin").get(f"/api/v1/spend/{company.pk}/").status_code == 200
    assert client_as(org.boss).get(f"/api/v1/spend/{company.pk}/").status_code == 404


def forecast(**fields):
    return {"period_kind": "quarter", "period_start": "2030-04-01", "amount": "100.00", **fields}


def test_a_manager_forecasts_for_their_team_and_a_rep_may_not(org, client_as):
    by_manager = post(client_as("manager"), "forecasts", forecast(scope="team", team=org.east.pk))
    by_rep = post(client_as("rep"), "forecasts", forecast(scope="team", team=org.east.pk))
    for_company = post(client_as("manager"), "forecasts", forecast(scope="company"))

    assert by_manager.status_code == 201
    assert by_rep.status_code == 400 and "team" in by_rep.json()
    assert for_company.json() == {"scope": ["Only admins submit company forecasts."]}


def test_a_forecast_names_exactly_its_subject_and_starts_a_period(org, client_as):
    admin = client_as("admin")

    no_rep = post(admin, "forecasts", forecast(scope="rep"))
    two_subjects = post(admin, "forecasts", forecast(scope="rep", rep=org.alice.pk, team=org.east.pk))
    mid_quarter = post(admin, "forecasts", forecast(scope="rep", rep=org.alice.pk, period_start="2017-05-01"))

    assert no_rep.json() == {"rep": ["Name the rep this forecast is for."]}
    assert two_subjects.json() == {"team": ["Only a team forecast names a team."]}
    assert mid_quarter.json() == {"period_start": ["2017-05-01 is not the first day of a quarter."]}


def test_a_forecast_is_stamped_by_the_server_with_who_and_when(org, client_as):
    before = timezone.now()

    response = post(
        client_as("rep"),
        "forecasts",
        forecast(
            scope="rep", rep=org.alice.pk, submitted_at="2000-01-01T00:00:00Z", submitted_by=org.admin.pk
        ),
    )

    assert response.status_code == 201
    saved = ForecastSubmission.objects.get(pk=response.json()["id"])
    assert saved.submitted_by == org.alice.user
    assert saved.submitted_at >= before
    assert response.json()["period"] == "2030-Q2"


def test_an_integrity_error_from_the_database_is_a_400(org, client_as, monkeypatch):
    def refuse(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(Lead, "save", refuse)

    response = post(client_as("rep"), "leads", {"name": "L", "rep": org.alice.pk, "created_on": "2017-01-02"})

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]


@pytest.mark.parametrize(
    ("path", "row"),
    [
        ("teams", lambda org, a: org.east),
        ("stages", lambda org, a: a.opportunity.stage),
        ("reps", lambda org, a: org.alice),
    ],
    ids=["team-with-reps", "stage-in-use", "rep-with-deals"],
)
def test_deleting_a_row_others_still_refer_to_is_a_409(org, alices, client_as, path, row):
    target = row(org, alices)

    response = client_as("admin").delete(f"/api/v1/{path}/{target.pk}/")

    assert response.status_code == 409
    assert response.json()["detail"].startswith("Cannot delete:")
    assert type(target).objects.filter(pk=target.pk).exists()


def test_deleting_a_rep_without_facts_works(org, client_as):
    lone = RepFactory(team=org.west)

    assert client_as("admin").delete(f"/api/v1/reps/{lone.pk}/").status_code == 204


def test_a_django_validation_error_from_a_save_or_a_service_is_a_400(org, client_as, monkeypatch):
    def refuse(*args, **kwargs):
        raise ValidationError({"name": ["Not this name."]})

    monkeypatch.setattr(Lead, "save", refuse)

    response = post(client_as("rep"), "leads", {"name": "L", "rep": org.alice.pk, "created_on": "2017-01-02"})

    assert response.status_code == 400
    assert response.json() == {"name": ["Not this name."]}
    assert not Lead.objects.filter(name="L").exists()
