"""Django admin: every model's pages load for a superuser, and the big lists stay cheap."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kpis.models import (
    AcquisitionSpend,
    Activity,
    Customer,
    ForecastSubmission,
    ImportMapping,
    Job,
    KpiSnapshot,
    Lead,
    NpsResponse,
    Opportunity,
    Stage,
)
from targets.models import Target
from teams.models import Rep, Team, User
from tests.factories import (
    AcquisitionSpendFactory,
    ActivityFactory,
    CustomerFactory,
    ForecastFactory,
    KpiSnapshotFactory,
    LeadFactory,
    NpsResponseFactory,
    OpportunityFactory,
    RepFactory,
    StageFactory,
    TargetFactory,
    TeamFactory,
    UserFactory,
)

# For each model: how to build one row whose searchable text is `label`.
MAKERS = {
    User: lambda label: UserFactory(first_name=label),
    Team: lambda label: TeamFactory(name=label, parent=TeamFactory(), manager=UserFactory()),
    Rep: lambda label: RepFactory(full_name=label),
    Customer: lambda label: CustomerFactory(name=label, owner=RepFactory(), acquired_on=dt.date(2017, 2, 1)),
    Lead: lambda label: LeadFactory(name=label, customer=CustomerFactory(), converted_on=dt.date(2017, 2, 1)),
    Stage: lambda label: StageFactory(name=label),
    Opportunity: lambda label: OpportunityFactory(name=label, customer=CustomerFactory()),
    Activity: lambda label: ActivityFactory(
        subject=label, customer=CustomerFactory(), opportunity=OpportunityFactory()
    ),
    NpsResponse: lambda label: NpsResponseFactory(comment=label),
    AcquisitionSpend: lambda label: AcquisitionSpendFactory(channel=label, rep=RepFactory()),
    ForecastSubmission: lambda label: ForecastFactory(rep=RepFactory(full_name=label)),
    KpiSnapshot: lambda label: KpiSnapshotFactory(metric=label),
    Target: lambda label: TargetFactory(rep=RepFactory(full_name=label)),
    Job: lambda label: Job.objects.create(kind=Job.Kind.CRM_IMPORT, created_by=UserFactory(username=label)),
    ImportMapping: lambda label: ImportMapping.objects.create(
        name=label, kind="opportunities", columns={"external_id": "Record ID"}, created_by=UserFactory()
    ),
}
MODELS = pytest.mark.parametrize("model", list(MAKERS), ids=lambda model: model.__name__)


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def superuser_client(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def rows(request):
    """Three rows of the test's model: one labelled "Searchable", two others."""
    make = MAKERS[request.getfixturevalue("model")]
    return [make("Searchable"), make("Other one"), make("Other two")]


def test_every_model_has_an_admin():
    assert set(MAKERS) <= set(admin.site._registry)


@MODELS
def test_changelist_lists_the_rows(superuser_client, model, rows):
    response = superuser_client.get(url(model, "changelist"))

    assert response.status_code == 200
    assert set(rows) <= set(response.context["cl"].result_list)


@MODELS
def test_changelist_sorts_by_every_column(superuser_client, model, rows):
    for column in range(len(admin.site._registry[model].list_display)):
        response = superuser_client.get(url(model, "changelist"), {"o": f"-{column}"})
        assert response.status_code == 200, column


@MODELS
def test_search_finds_only_the_matching_row(superuser_client, model, rows):
    response = superuser_client.get(url(model, "changelist"), {"q": "Searchable"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [rows[0]]


@MODELS
def test_add_page_loads_except_for_computed_snapshots_forecast_history_and_jobs(superuser_client, model):
    response = superuser_client.get(url(model, "add"))

    assert response.status_code == (403 if model in (KpiSnapshot, ForecastSubmission, Job) else 200)


@MODELS
def test_change_page_loads(superuser_client, model, rows):
    response = superuser_client.get(url(model, "change", rows[0].pk))

    assert response.status_code == 200


def test_forecasts_are_read_only_history_that_only_a_superuser_may_delete(superuser_client):
    forecast = ForecastFactory(rep=RepFactory())
    staff = UserFactory(username="staff", is_staff=True)  # with every permission on forecasts
    staff.user_permissions.set(Permission.objects.filter(codename__endswith="_forecastsubmission"))
    client = Client()
    client.force_login(staff)

    change = superuser_client.post(url(ForecastSubmission, "change", forecast.pk), {"amount": "1"})
    by_staff = client.post(url(ForecastSubmission, "delete", forecast.pk), {"post": "yes"})
    kept = ForecastSubmission.objects.filter(pk=forecast.pk).exists()
    by_superuser = superuser_client.post(url(ForecastSubmission, "delete", forecast.pk), {"post": "yes"})

    assert change.status_code == 403
    assert by_staff.status_code == 403 and kept
    assert by_superuser.status_code == 302
    assert not ForecastSubmission.objects.exists()


def test_snapshots_are_read_only_but_may_be_deleted(superuser_client):
    snapshot = KpiSnapshotFactory()

    change = superuser_client.get(url(KpiSnapshot, "change", snapshot.pk))
    delete = superuser_client.post(url(KpiSnapshot, "delete", snapshot.pk), {"post": "yes"})

    assert not change.context["has_change_permission"]
    assert delete.status_code == 302
    assert not KpiSnapshot.objects.exists()


def test_snapshot_search_matches_the_rep_or_team_name(superuser_client):
    alice = RepFactory(full_name="Alice")
    east = TeamFactory(name="East Alicante")
    mine = KpiSnapshotFactory(scope="rep", subject_id=alice.pk)
    team = KpiSnapshotFactory(scope="team", subject_id=east.pk)
    KpiSnapshotFactory(scope="rep", subject_id=RepFactory(full_name="Bob").pk)

    response = superuser_client.get(url(KpiSnapshot, "changelist"), {"q": "alic"})

    assert set(response.context["cl"].result_list) == {mine, team}
    assert [row.subject_name for row in response.context["cl"].result_list] == ["Alice", "East Alicante"]


def test_nps_changelist_filters_promoters(superuser_client):
    promoter = NpsResponseFactory(score=9)
    NpsResponseFactory(score=7)
    NpsResponseFactory(score=3)

    response = superuser_client.get(url(NpsResponse, "changelist"), {"category": "promoter"})

    assert list(response.context["cl"].result_list) == [promoter]


def test_opportunity_amount_is_shown_with_the_currency(superuser_client, settings):
    settings.CURRENCY = "EUR"
    OpportunityFactory(amount=Decimal("1234.50"))

    response = superuser_client.get(url(Opportunity, "changelist"))

    assert "EUR 1,234.50" in response.content.decode()


def test_stage_probability_is_editable_in_the_changelist(superuser_client):
    stage = StageFactory(name="Engaging", order=2, probability=Decimal("0.4"))

    response = superuser_client.post(
        url(Stage, "changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": stage.pk,
            "form-0-order": "3",
            "form-0-probability": "0.55",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    stage.refresh_from_db()
    assert (stage.order, stage.probability) == (3, Decimal("0.55"))


def test_target_added_in_admin_records_who_added_it(superuser_client):
    rep = RepFactory()

    response = superuser_client.post(
        url(Target, "add"),
        {
            "scope": "rep",
            "rep": rep.pk,
            "metric": "revenue_won",
            "period_kind": "month",
            "period_start": "2017-01-01",
            "value": "5000",
        },
    )

    assert response.status_code == 302
    target = Target.objects.get()
    root = User.objects.get(username="root")
    assert target.created_by == root
    assert target.history.get().history_user == root


def test_target_history_page_shows_every_change(superuser_client):
    target = TargetFactory(rep=RepFactory(), value=Decimal("1000"))
    target.value = Decimal("2500")
    target.save()

    response = superuser_client.get(url(Target, "history", target.pk))

    assert response.status_code == 200
    assert [record.value for record in response.context["page_obj"]] == [
        Decimal("2500"),
        Decimal("1000"),
    ]


def changelist_queries(client, model):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(model, "changelist"))
    assert response.status_code == 200
    return len(queries)


def make_opportunity(i):
    return OpportunityFactory(stage=StageFactory(name=f"Stage {i}"), customer=CustomerFactory())


def make_activity(i):
    return ActivityFactory(customer=CustomerFactory(), opportunity=make_opportunity(i))


def test_opportunity_changelist_runs_constant_queries(superuser_client):
    assert_constant_queries(superuser_client, Opportunity, make_opportunity)


def test_activity_changelist_runs_constant_queries(superuser_client):
    assert_constant_queries(superuser_client, Activity, make_activity)


def assert_constant_queries(client, model, make):
    """Every row has its own rep, team, customer (and stage): any per-row query would show."""
    for i in range(5):
        make(i)
    changelist_queries(client, model)  # warm caches (content types, session) before counting
    with_5 = changelist_queries(client, model)
    for i in range(5, 50):
        make(i)

    with_50 = changelist_queries(client, model)

    assert model.objects.count() == 50
    assert with_50 == with_5


# --- a deal's history (kpis.deal_history)


def change_form_data(deal, **changes) -> dict:
    """The opportunity change form as the admin page would post it, with `changes`."""
    data = {
        "external_id": deal.external_id or "",
        "name": deal.name,
        "rep": deal.rep_id,
        "customer": deal.customer_id or "",
        "product": deal.product,
        "stage": deal.stage_id,
        "amount": deal.amount,
        "created_on": deal.created_on or "",
        "closed_on": deal.closed_on or "",
        "expected_close_on": deal.expected_close_on or "",
        "states-TOTAL_FORMS": deal.states.count(),
        "states-INITIAL_FORMS": deal.states.count(),
        "states-MIN_NUM_FORMS": 0,
        "states-MAX_NUM_FORMS": 1000,
    }
    for i, pk in enumerate(deal.states.values_list("pk", flat=True)):
        data[f"states-{i}-id"] = pk
        data[f"states-{i}-opportunity"] = deal.pk
    return data | changes


def test_saving_a_changed_deal_records_one_state_by_the_admin(superuser_client):
    admin_user = User.objects.get(username="root")
    deal = OpportunityFactory(amount=Decimal("100"), created_on=dt.date(2017, 1, 2))

    response = superuser_client.post(
        url(Opportunity, "change", deal.pk),
        change_form_data(deal, amount="150", expected_close_on="2017-03-31"),
    )

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    states = list(deal.states.order_by("recorded_at", "id"))
    assert len(states) == 2
    first, changed = states
    assert (first.amount, first.expected_close_on, first.recorded_by) == (Decimal("100"), None, None)
    assert (changed.amount, changed.expected_close_on) == (Decimal("150"), dt.date(2017, 3, 31))
    assert changed.recorded_by == admin_user and changed.until is None and first.until == changed.since
    deal.refresh_from_db()
    assert deal.expected_close_on == dt.date(2017, 3, 31)


def test_saving_an_unchanged_deal_records_nothing(superuser_client):
    deal = OpportunityFactory(amount=Decimal("100"), created_on=dt.date(2017, 1, 2))

    response = superuser_client.post(url(Opportunity, "change", deal.pk), change_form_data(deal))

    assert response.status_code == 302
    assert deal.states.count() == 1


def test_the_deal_page_shows_its_history_read_only_in_constant_queries(superuser_client):
    deal = OpportunityFactory(amount=Decimal("100"), created_on=dt.date(2017, 1, 2))

    def change_page_queries():
        with CaptureQueriesContext(connection) as queries:
            response = superuser_client.get(url(Opportunity, "change", deal.pk))
        assert response.status_code == 200
        return len(queries), response.content.decode()

    change_page_queries()  # warm caches
    few, _ = change_page_queries()
    for amount in range(101, 111):  # ten more states, each by another owner
        Opportunity.objects.filter(pk=deal.pk).update(amount=amount, rep=RepFactory())
    many, html = change_page_queries()

    assert deal.states.count() == 11
    assert many == few
    assert "its opening" in html and "USD 110.00" in html
    assert 'name="states-0-amount"' not in html  # shown, not editable
