"""Each kind imports a small hand-written file through the suggested mapping, on PostgreSQL or
SQLite, and writes what the file says (kpis.imports)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kpis.imports import KINDS, import_table, preview_import
from kpis.models import (
    AcquisitionSpend,
    Activity,
    Customer,
    ForecastSubmission,
    ImportMapping,
    Lead,
    NpsResponse,
    Opportunity,
)
from teams.models import Rep, Team
from tests.factories import OpportunityFactory, UserFactory

from .conftest import FILES, hubspot_mapping, mapping, table


def test_a_hubspot_deals_export_imports_with_its_stages_mapped(people, stages):
    t = table("hubspot_deals.csv")

    result = import_table(kind="opportunities", table=t, mapping=hubspot_mapping(stages), user=people.admin)

    assert (result.created, result.updated, result.unchanged, result.refused) == (4, 0, 0, 0)
    assert result.encoding == "UTF-8" and result.error_csv is None
    deals = {o.external_id: o for o in Opportunity.objects.select_related("stage", "rep", "customer")}
    acme = deals["HS-101"]
    assert (acme.name, acme.rep, acme.stage, acme.amount, acme.customer) == (
        "Acme renewal",
        people.alice,
        stages["won"],
        Decimal("1200.50"),
        people.acme,
    )
    assert (acme.created_on, acme.closed_on) == (dt.date(2017, 1, 10), dt.date(2017, 3, 15))
    assert deals["HS-102"].rep == people.alice  # by e-mail
    assert deals["HS-104"].rep == people.bob  # by username
    # An open deal's "Close Date" is its expected close (HubSpot exports both in one column).
    assert (deals["HS-104"].closed_on, deals["HS-104"].expected_close_on) == (None, dt.date(2017, 4, 30))
    assert deals["HS-104"].amount == Decimal("2000.00")


def test_a_salesforce_export_in_windows_1252_with_semicolons_and_decimal_commas_imports(people, stages):
    t = table("salesforce_opportunities.csv")
    m = mapping(
        "opportunities",
        t,
        date_format="%d.%m.%Y",
        decimal_comma=True,
        values={"stage": {"Closed Won": stages["won"].pk, "Prospecting": stages["open"].pk}},
    )

    result = import_table(kind="opportunities", table=t, mapping=m, user=people.admin)

    assert t.encoding == result.encoding == "Windows-1252"
    assert (result.created, result.refused) == (2, 0)
    won, open_ = Opportunity.objects.get(external_id="006A1"), Opportunity.objects.get(external_id="006A2")
    assert (won.name, won.amount, won.closed_on, won.customer) == (
        "Café Grün Erweiterung",
        Decimal("1500.00"),
        dt.date(2017, 3, 14),
        people.globex,
    )
    assert (open_.amount, open_.forecast_category, open_.expected_close_on) == (
        Decimal("2250.75"),
        "best_case",
        dt.date(2017, 6, 30),
    )


def test_customers_import_with_owner_and_numbers(people):
    t = table("customers.csv")
    result = import_table(kind="customers", table=t, mapping=mapping("customers", t), user=people.admin)

    assert (result.created, result.updated) == (1, 1)  # C-1 is the stored Acme Corp
    globex = Customer.objects.get(external_id="C-2")
    assert (globex.name, globex.owner, globex.employees, globex.acquired_on) == (
        "Globex",
        people.bob,
        80,
        dt.date(2017, 1, 15),
    )
    acme = Customer.objects.get(external_id="C-1")
    assert (acme.sector, acme.employees) == ("Manufacturing", 1200)


def test_leads_import_with_their_converted_customer(people):
    t = table("leads.csv")
    result = import_table(kind="leads", table=t, mapping=mapping("leads", t), user=people.admin)

    assert result.created == 2
    jane = Lead.objects.get(external_id="L-1")
    assert (jane.rep, jane.source, jane.converted_on, jane.customer) == (
        people.alice,
        "Webinar",
        dt.date(2017, 3, 1),
        people.acme,
    )
    assert Lead.objects.get(external_id="L-2").customer is None


def test_activities_import_with_kinds_mapped_by_name_and_times_in_the_time_zone(people):
    t = table("activities.csv")
    m = mapping("activities", t, date_format="%Y-%m-%d %H:%M")
    result = import_table(kind="activities", table=t, mapping=m, user=people.admin)

    assert result.created == 3
    kinds = dict(Activity.objects.values_list("external_id", "kind"))
    assert kinds == {"A-1": "call", "A-2": "email", "A-3": "meeting"}
    tz = timezone.get_default_timezone()
    assert Activity.objects.get(external_id="A-1").occurred_at == dt.datetime(2017, 3, 1, 9, 30, tzinfo=tz)
    assert Activity.objects.get(external_id="A-2").occurred_at == dt.datetime(2017, 3, 2, tzinfo=tz)


def test_nps_responses_import_naming_customers_by_name_or_external_id(people):
    t = table("nps.csv")
    result = import_table(kind="nps", table=t, mapping=mapping("nps", t), user=people.admin)

    assert result.created == 2
    scores = {r.external_id: (r.customer, r.score) for r in NpsResponse.objects.all()}
    assert scores == {"N-1": (people.acme, 9), "N-2": (people.globex, 4)}


def test_spend_imports_for_a_rep_a_team_and_the_company(people):
    t = table("spend.csv")
    result = import_table(kind="spend", table=t, mapping=mapping("spend", t), user=people.admin)

    assert result.created == 3
    spend = {s.external_id: (s.rep, s.team, s.amount) for s in AcquisitionSpend.objects.all()}
    assert spend == {
        "S-1": (people.alice, None, Decimal("1000.00")),
        "S-2": (None, people.east, Decimal("250.00")),
        "S-3": (None, None, Decimal("75.50")),
    }


def test_past_forecast_submissions_import_with_their_dates_as_the_admins(people):
    t = table("forecasts.csv")
    result = import_table(kind="forecasts", table=t, mapping=mapping("forecasts", t), user=people.admin)

    assert result.created == 3
    rows = {
        f.external_id: (f.scope, f.rep, f.team, f.period_kind, f.period_start, f.category, f.amount)
        for f in ForecastSubmission.objects.all()
    }
    q2 = ("quarter", dt.date(2017, 4, 1))
    assert rows == {
        "F-1": ("rep", people.alice, None, *q2, "commit", Decimal("5000")),
        "F-2": ("team", None, people.east, *q2, "best_case", Decimal("9000.00")),
        "F-3": ("company", None, None, *q2, "commit", Decimal("12000")),
    }
    f1 = ForecastSubmission.objects.get(external_id="F-1")
    assert f1.submitted_at == dt.datetime(2017, 3, 20, 10, tzinfo=timezone.get_default_timezone())
    assert f1.submitted_by == people.admin


def test_a_stored_forecast_submission_is_never_changed_by_a_re_import(people):
    t = table("forecasts.csv")
    import_table(kind="forecasts", table=t, mapping=mapping("forecasts", t), user=people.admin)
    changed = table("forecasts.csv", (FILES / "forecasts.csv").read_bytes().replace(b'"5,000"', b"5500"))

    preview = preview_import(
        kind="forecasts", table=changed, mapping=mapping("forecasts", changed), user=people.admin
    )

    assert preview.counts == {"create": 0, "update": 0, "unchanged": 2, "refused": 1}
    assert preview.errors == [
        "forecasts.csv, line 2: external_id: a stored submission is never changed: "
        "give a correction its own id"
    ]


def test_reps_import_links_existing_reps_and_creates_users_and_teams_once_confirmed(people):
    t = table("reps.csv")
    m = mapping("reps", t)

    preview = preview_import(kind="reps", table=t, mapping=m, user=people.admin)
    assert preview.confirm == [
        "creates user dana for rep Dana Scully",
        "creates the team 'X-Files' (at the top) for rep Fox Mulder",
        "creates user fox for rep Fox Mulder",
    ]
    assert preview.counts == {"create": 2, "update": 1, "unchanged": 0, "refused": 0}

    result = import_table(kind="reps", table=t, mapping=m, user=people.admin, confirmed=True)

    assert (result.created, result.updated) == (2, 1)
    assert Rep.objects.get(full_name="Alice").external_id == "U-1"
    dana = Rep.objects.select_related("user", "team").get(external_id="U-9")
    assert (dana.full_name, dana.user.username, dana.user.email, dana.team) == (
        "Dana Scully",
        "dana",
        "dana@example.com",
        people.west,
    )
    assert not dana.user.has_usable_password()
    fox = Rep.objects.get(external_id="U-10")
    assert fox.team == Team.objects.get(name="X-Files", parent=None)
    assert list(dana.memberships.values_list("team_id", "recorded_by")) == [(people.west.pk, people.admin.pk)]


@pytest.mark.parametrize("kind", ["customers", "leads", "activities", "nps", "spend", "forecasts"])
def test_every_kind_re_imported_unchanged_writes_nothing(people, kind):
    t = table(f"{kind}.csv")
    m = mapping(kind, t, date_format="%Y-%m-%d %H:%M" if kind == "activities" else "")
    import_table(kind=kind, table=t, mapping=m, user=people.admin)

    again = import_table(kind=kind, table=t, mapping=m, user=people.admin)

    assert (again.created, again.updated, again.unchanged) == (0, 0, len(t.rows))


def test_an_activity_names_its_deal_by_external_id_among_those_the_importer_sees(people, stages):
    deal = OpportunityFactory(external_id="D-1", rep=people.alice, stage=stages["open"])
    OpportunityFactory(external_id="D-2", rep=people.carol, stage=stages["open"])  # west's
    t = table(
        "activities.csv",
        b"Activity ID,Assigned To,Type,Date,Deal ID\n"
        b"A-1,Alice,call,2017-03-01,D-1\n"
        b"A-2,Alice,call,2017-03-01,D-2\n",
    )

    preview = preview_import(
        kind="activities", table=t, mapping=mapping("activities", t), user=people.east_manager
    )
    result = import_table(
        kind="activities",
        table=t,
        mapping=mapping("activities", t),
        user=people.east_manager,
        good_rows_only=True,
    )

    assert preview.errors == [
        "activities.csv, line 3: opportunity: no deal with the external id 'D-2' among those you may see"
    ]
    assert (result.created, Activity.objects.get(external_id="A-1").opportunity) == (1, deal)


def test_the_kinds_are_the_eight_of_the_interface_and_the_mappings_choices():
    keys = ["reps", "customers", "leads", "opportunities", "activities", "nps", "spend", "forecasts"]

    assert list(KINDS) == keys == ImportMapping.Kind.values
    assert all(type(key) is str and KINDS[key].key == key for key in KINDS)
    maps_values = {k: [f.name for f in kind.fields if f.maps_values] for k, kind in KINDS.items()}
    assert maps_values["opportunities"] == ["owner", "stage", "forecast_category"]
    assert maps_values["reps"] == ["team"]


def test_reps_re_imported_change_nothing_and_an_existing_user_made_a_rep_is_confirmed_first(people):
    UserFactory(username="dana", email="dana@example.com")  # a user already, not yet a rep
    t, m = table("reps.csv"), mapping("reps", table("reps.csv"))

    first = preview_import(kind="reps", table=t, mapping=m, user=people.admin)
    import_table(kind="reps", table=t, mapping=m, user=people.admin, confirmed=True)
    again = preview_import(kind="reps", table=t, mapping=m, user=people.admin)
    result = import_table(kind="reps", table=t, mapping=m, user=people.admin)

    assert "makes user dana the rep Dana Scully" in first.confirm
    assert Rep.objects.get(external_id="U-9").user.username == "dana"
    assert (again.confirm, again.counts) == ([], {"create": 0, "update": 0, "unchanged": 3, "refused": 0})
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
