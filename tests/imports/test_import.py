"""The mapped import's promises (kpis.imports): suggestions from the usual export headers, a
preview that writes nothing, all or nothing by default, the good rows with an error CSV when
asked, re-imports that change nothing, the deal history naming the importer, one recompute per
import, confirmation before anything creates users, and the importer's visibility."""

import io
from decimal import Decimal

import pytest
from celery.signals import task_prerun
from django.core.management import call_command
from django.utils import timezone

from kpis.imports import ImportFailed, import_table, preview_import, suggest_columns
from kpis.models import ImportMapping, Opportunity, OpportunityState
from teams.models import Rep, Team, User
from tests.bad_input.helpers import FACTS, assert_unchanged

from .conftest import FILES, hubspot_mapping, mapping, table

HUBSPOT = ["Record ID", "Deal Name", "Amount", "Close Date", "Deal Stage", "Deal owner", "Create Date"]
SALESFORCE = [
    "Opportunity ID",
    "Opportunity Name",
    "Account Name",
    "Stage",
    "Amount",
    "Close Date",
    "Created Date",
    "Opportunity Owner",
]


def test_hubspot_deal_headers_suggest_every_column():
    assert suggest_columns("opportunities", HUBSPOT) == {
        "external_id": "Record ID",
        "name": "Deal Name",
        "owner": "Deal owner",
        "stage": "Deal Stage",
        "amount": "Amount",
        "created_on": "Create Date",
        "closed_on": "Close Date",
    }


def test_salesforce_opportunity_headers_suggest_every_column_whatever_their_case_and_spaces():
    shouted = [h.upper().replace(" ", "  ") for h in SALESFORCE]
    expected = {
        "external_id": "Opportunity ID",
        "name": "Opportunity Name",
        "owner": "Opportunity Owner",
        "customer": "Account Name",
        "stage": "Stage",
        "amount": "Amount",
        "created_on": "Created Date",
        "closed_on": "Close Date",
    }
    assert suggest_columns("opportunities", SALESFORCE) == expected
    assert suggest_columns("opportunities", shouted) == {
        k: v.upper().replace(" ", "  ") for k, v in expected.items()
    }


def test_a_preview_shows_rows_counts_and_unmapped_stages_and_writes_nothing(people, stages):
    t = table("hubspot_deals.csv")
    unmapped_stages = mapping("opportunities", t, date_format="%m/%d/%Y")

    with assert_unchanged(*FACTS):
        preview = preview_import(
            kind="opportunities", table=t, mapping=unmapped_stages, user=people.admin, rows=2
        )

    assert preview.unmapped == {"stage": ["Appointment Scheduled", "Closed Lost", "Closed Won"]}
    assert preview.counts == {"create": 0, "update": 0, "unchanged": 0, "refused": 4}
    assert (
        preview.errors[0]
        == "hubspot_deals.csv, line 2: stage: unknown stage 'Closed Won': map it to one of ours"
    )
    assert len(preview.errors) == 4 and preview.encoding == "UTF-8" and preview.confirm == []

    mapped = preview_import(
        kind="opportunities", table=t, mapping=hubspot_mapping(stages), user=people.admin, rows=2
    )

    assert mapped.errors == [] and mapped.unmapped == {}
    assert mapped.counts == {"create": 4, "update": 0, "unchanged": 0, "refused": 0}
    assert mapped.rows == [
        {
            "Line": "2",
            "External id": "HS-101",
            "Name": "Acme renewal",
            "Owner": "Alice",
            "Customer": "Acme Corp",
            "Stage": "Won",
            "Amount": "1,200.50",
            "Created on": "2017-01-10",
            "Close date": "2017-03-15",
            "Import": "create",
        },
        {
            "Line": "3",
            "External id": "HS-102",
            "Name": "Globex expansion",
            "Owner": "Alice",
            "Customer": "",
            "Stage": "Won",
            "Amount": "800.00",
            "Created on": "2017-02-01",
            "Close date": "2017-03-28",
            "Import": "create",
        },
    ]
    assert not Opportunity.objects.exists()


def test_a_re_import_of_the_same_file_changes_nothing_and_records_no_history(
    people, stages, django_capture_on_commit_callbacks
):
    t, m = table("hubspot_deals.csv"), hubspot_mapping(stages)
    import_table(kind="opportunities", table=t, mapping=m, user=people.admin)
    states = list(OpportunityState.objects.values_list("pk", "until", "recorded_at"))
    deals = list(Opportunity.objects.order_by("pk").values_list())

    with django_capture_on_commit_callbacks() as callbacks:
        again = import_table(kind="opportunities", table=t, mapping=m, user=people.admin)

    assert (again.created, again.updated, again.unchanged, again.refused) == (0, 0, 4, 0)
    assert list(OpportunityState.objects.values_list("pk", "until", "recorded_at")) == states
    assert list(Opportunity.objects.order_by("pk").values_list()) == deals
    assert callbacks == []  # nothing written: nothing to recompute


def test_a_changed_row_updates_its_deal_and_the_history_names_the_importer(people, stages):
    t, m = table("hubspot_deals.csv"), hubspot_mapping(stages)
    import_table(kind="opportunities", table=t, mapping=m, user=people.east_manager)
    changed = table(
        "hubspot_deals.csv", (FILES / "hubspot_deals.csv").read_bytes().replace(b'"$2,000.00"', b"2500")
    )

    result = import_table(kind="opportunities", table=changed, mapping=m, user=people.admin)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 3)
    deal = Opportunity.objects.get(external_id="HS-104")
    assert deal.amount == Decimal("2500.00") and Opportunity.objects.count() == 4
    history = list(deal.states.order_by("recorded_at").values_list("amount", "recorded_by__username"))
    assert history == [(Decimal("2000.00"), "east_manager"), (Decimal("2500.00"), "admin")]


def test_an_import_is_recomputed_once_and_the_figures_are_the_files(
    people, stages, django_capture_on_commit_callbacks, snapshot
):
    # Won in March 2017: Alice HS-101 1,200.50 + HS-102 800.00 = 2,000.50 (2 deals); Bob lost
    # HS-103 on 2017-03-02; HS-104 is open. East = Alice + Bob.
    started = []

    def count(sender=None, **kwargs):
        started.append(sender.name)

    task_prerun.connect(count)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            import_table(
                kind="opportunities",
                table=table("hubspot_deals.csv"),
                mapping=hubspot_mapping(stages),
                user=people.admin,
            )
    finally:
        task_prerun.disconnect(count)

    assert sorted(started) == ["kpis.fan_out_recompute", "kpis.recompute_subject", "kpis.recompute_tree"]
    assert snapshot(people.alice, "revenue_won", "2017-03") == Decimal("2000.50")
    assert snapshot(people.alice, "deals_won", "2017-03") == 2
    assert snapshot(people.bob, "deals_lost", "2017-03") == 1
    assert snapshot(people.east, "revenue_won", "2017-Q1") == Decimal("2000.50")


BAD_ROW = b"HS-105,Bad date,$10,02/30/2017,Closed Won,Alice,01/10/2017,\n"


def test_one_bad_row_refuses_the_whole_file_and_writes_nothing(people, stages):
    t = table("hubspot_deals.csv", (FILES / "hubspot_deals.csv").read_bytes() + BAD_ROW)

    with assert_unchanged(*FACTS), pytest.raises(ImportFailed) as failed:
        import_table(kind="opportunities", table=t, mapping=hubspot_mapping(stages), user=people.admin)

    assert failed.value.message == "hubspot_deals.csv: 1 of 5 rows have errors; nothing was imported."
    assert failed.value.errors == [
        "hubspot_deals.csv, line 6: closed_on: '02/30/2017' is not a date written like 03/31/2017"
    ]


def test_good_rows_only_imports_the_good_rows_and_returns_the_bad_ones_as_csv(people, stages):
    t = table(
        "hubspot_deals.csv",
        (FILES / "hubspot_deals.csv").read_bytes() + BAD_ROW + b"HS-106,=HYPERLINK(1),-5,,Closed Won,Zoe,,\n",
    )

    result = import_table(
        kind="opportunities", table=t, mapping=hubspot_mapping(stages), user=people.admin, good_rows_only=True
    )

    assert (result.created, result.refused) == (4, 2)
    assert set(Opportunity.objects.values_list("external_id", flat=True)) == {
        "HS-101",
        "HS-102",
        "HS-103",
        "HS-104",
    }
    assert result.errors == [
        "hubspot_deals.csv, line 6: closed_on: '02/30/2017' is not a date written like 03/31/2017",
        "hubspot_deals.csv, line 7: owner: unknown owner 'Zoe': map it to one of ours",
        "hubspot_deals.csv, line 7: amount: '-5' is negative: amounts are 0 or more",
    ]
    assert result.error_csv.decode("utf-8-sig").splitlines() == [
        "Record ID,Deal Name,Amount,Close Date,Deal Stage,Deal owner,Create Date,Associated Company,error",
        "HS-105,Bad date,$10,02/30/2017,Closed Won,Alice,01/10/2017,,"
        "line 6: closed_on: '02/30/2017' is not a date written like 03/31/2017",
        "HS-106,'=HYPERLINK(1),-5,,Closed Won,Zoe,,,"
        "line 7: owner: unknown owner 'Zoe': map it to one of ours; "
        "amount: '-5' is negative: amounts are 0 or more",
    ]


def test_a_won_deal_without_a_close_date_is_a_row_error(people, stages):
    t = table(
        "hubspot_deals.csv",
        (FILES / "hubspot_deals.csv").read_bytes() + b"HS-107,No close,$10,,Closed Won,Alice,,\n",
    )

    preview = preview_import(
        kind="opportunities", table=t, mapping=hubspot_mapping(stages), user=people.admin
    )

    assert preview.errors == ["hubspot_deals.csv, line 6: closed_on: A Won deal needs its close date."]


def test_new_users_are_created_only_once_confirmed(people):
    t = table("reps.csv")

    with assert_unchanged(User, Rep, Team), pytest.raises(ImportFailed) as failed:
        import_table(kind="reps", table=t, mapping=mapping("reps", t), user=people.admin)

    assert failed.value.message == (
        "reps.csv: the import needs your confirmation:\n"
        "- creates user dana for rep Dana Scully\n"
        "- creates the team 'X-Files' (at the top) for rep Fox Mulder\n"
        "- creates user fox for rep Fox Mulder\n"
        "Nothing was imported."
    )


def test_a_rep_moved_by_the_file_is_listed_and_moved_from_today_once_confirmed(people):
    t = table("moved.csv", b"User ID,Name,Team\nU-3,Carol,East\n")
    m = mapping("reps", t)

    assert preview_import(kind="reps", table=t, mapping=m, user=people.admin).confirm == [
        "moves rep Carol from team 'West' to 'East' from today"
    ]
    import_table(kind="reps", table=t, mapping=m, user=people.admin, confirmed=True)

    people.carol.refresh_from_db()
    assert (people.carol.team, people.carol.external_id) == (people.east, "U-3")
    last = people.carol.memberships.get(until=None)
    assert (last.team, last.since, last.recorded_by) == (people.east, timezone.localdate(), people.admin)


def test_a_manager_imports_only_for_the_reps_they_see_and_a_rep_not_deals_at_all(people, stages):
    t = table(
        "deals.csv", b"Record ID,Deal owner,Deal Stage,Amount\nD-1,Alice,Engaging,10\nD-2,Carol,Engaging,10\n"
    )
    m = mapping("opportunities", t)

    preview = preview_import(kind="opportunities", table=t, mapping=m, user=people.east_manager)

    assert preview.errors == ["deals.csv, line 3: owner: unknown owner 'Carol': map it to one of ours"]
    with pytest.raises(ImportFailed) as refused:
        preview_import(kind="opportunities", table=t, mapping=m, user=people.alice.user)
    assert refused.value.message == "deals.csv: you may not import opportunities."


REPS = "User ID,Name,Email,Username,Team\n"


@pytest.mark.parametrize(
    "rows, errors",
    [
        (
            "U-1,Dana,not-an-email,,East\n",
            ["reps.csv, line 2: email: Enter a valid email address."],
        ),
        (
            "U-1,Dana,,carol,East\n",
            ["reps.csv, line 2: username: the user 'carol' is already another rep"],
        ),
        ("U-1,Bob,,,East\n", []),  # Bob, stored without an external id, is linked by his name
        (
            "U-1,Dana,,dana,East\nU-2,Dana,,dana2,East\n",
            ["reps.csv, line 3: full_name: 'Dana' is also on line 2"],
        ),
    ],
    ids=[
        "bad e-mail",
        "a user who is already a rep",
        "an unlinked rep of that name is linked",
        "a name twice",
    ],
)
def test_bad_reps_rows_are_refused_with_their_reason(people, rows, errors):
    t = table("reps.csv", (REPS + rows).encode())

    with assert_unchanged(User, Rep, Team):
        preview = preview_import(kind="reps", table=t, mapping=mapping("reps", t), user=people.admin)

    assert preview.errors == errors


def test_a_rep_named_like_another_linked_rep_is_refused(people):
    people.carol.external_id = "C-9"
    people.carol.save()
    t = table("reps.csv", (REPS + "U-1,Carol,,,East\n").encode())

    preview = preview_import(kind="reps", table=t, mapping=mapping("reps", t), user=people.admin)

    assert preview.errors == ["reps.csv, line 2: full_name: 'Carol' is the name of another rep"]


def test_a_mapping_saved_in_admin_records_who_made_it_and_is_used_by_name(client, people, stages, tmp_path):
    client.force_login(people.admin)
    columns = '{"external_id": "Record ID", "owner": "Deal owner", "stage": "Deal Stage", "amount": "Amount"}'

    response = client.post(
        "/admin/kpis/importmapping/add/",
        {"name": "Pipedrive", "kind": "opportunities", "columns": columns, "values": "{}", "date_format": ""},
    )

    assert response.status_code == 302, response.content
    saved = ImportMapping.objects.get(name="Pipedrive")
    assert (saved.created_by, saved.columns["stage"]) == (people.admin, "Deal Stage")
    path = tmp_path / "deals.csv"
    path.write_text("Record ID,Deal owner,Deal Stage,Amount\nP-1,Bob,Engaging,€ 12\n")
    out = io.StringIO()
    call_command("import_facts", str(path), "--kind", "opportunities", "--mapping", "Pipedrive", stdout=out)
    assert out.getvalue().splitlines()[-1] == "1 created, 0 updated, 0 unchanged, 0 refused."
    deal = Opportunity.objects.get(external_id="P-1")
    assert (deal.rep, deal.amount, deal.states.get().recorded_by) == (people.bob, Decimal("12"), None)


def test_an_owner_named_like_two_reps_is_offered_for_mapping_and_taken_once_mapped(people, stages):
    people.bob.user.email = "alice"  # Bob's e-mail is Alice's name: "Alice" names them both
    people.bob.user.save()
    t = table("deals.csv", b"Record ID,Deal owner,Deal Stage,Amount\nD-1,Alice,Engaging,10\n")
    m = mapping("opportunities", t)

    preview = preview_import(kind="opportunities", table=t, mapping=m, user=people.admin)
    m.values = {"owner": {"Alice": str(people.alice.pk)}}
    import_table(kind="opportunities", table=t, mapping=m, user=people.admin)

    assert preview.errors == ["deals.csv, line 2: owner: 'Alice' names 2 reps: map it to one of ours"]
    assert preview.unmapped == {"owner": ["Alice"]}
    assert Opportunity.objects.get(external_id="D-1").rep == people.alice


def test_a_mapping_that_names_no_field_of_its_kind_is_refused_in_admin_and_by_the_import(client, people):
    client.force_login(people.admin)
    form = {"name": "Bad", "kind": "opportunities", "columns": '{"deal_name": "Deal Name"}', "values": "{}"}

    response = client.post("/admin/kpis/importmapping/add/", form)

    assert response.status_code == 200 and not ImportMapping.objects.exists()
    assert "Not fields of opportunities: deal_name" in response.context["adminform"].form.errors["columns"][0]
    t = table("deals.csv", b"Record ID,Amount\nD-1,10\n")
    with pytest.raises(ImportFailed) as refused:
        preview_import(
            kind="opportunities", table=t, mapping=ImportMapping(columns=["Record ID"]), user=people.admin
        )
    assert refused.value.message == (
        """deals.csv: the mapping's columns: Give {"field": "the column's header", ...}."""
    )
