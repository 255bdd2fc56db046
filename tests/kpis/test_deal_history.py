"""Every change of a deal's stage, amount, dates or owner is a row of its history, whichever way
it was written: the database writes it (kpis.deal_history). The admin, API and import paths have
their own tests (tests/api, tests/test_admin.py, tests/kpis/test_import_crm.py)."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import connection

from kpis.deal_history import recorded_by
from kpis.models import Opportunity, OpportunityState
from tests.factories import RepFactory, UserFactory

pytestmark = pytest.mark.django_db


def history(deal):
    return list(
        OpportunityState.objects.filter(opportunity=deal)
        .order_by("recorded_at", "id")
        .values_list("stage__name", "amount", "closed_on", "rep_id", "since", "until")
    )


def test_a_new_deal_starts_its_history_in_the_state_it_was_created(org, deal):
    made = deal(org.alice, "open", "100", "2017-01-02")
    [(stage, amount, closed, rep, since, until)] = history(made)
    assert (stage, amount, closed, rep) == ("Engaging", D("100"), None, org.alice.pk)
    assert since is None and until is None  # from its opening, still


def test_each_save_that_changes_a_tracked_field_adds_a_state_and_closes_the_last(org, deal, stages):
    made = deal(org.alice, "open", "100", "2017-01-02")
    made.amount = D("150")
    made.save()
    made.name = "renamed"  # not tracked
    made.save()
    made.stage, made.closed_on = stages["won"], dt.date(2017, 2, 1)
    made.save()
    rows = history(made)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("Engaging", D("100"), None),
        ("Engaging", D("150"), None),
        ("Won", D("150"), dt.date(2017, 2, 1)),
    ]
    assert [r[5] is None for r in rows] == [False, False, True]  # one current state
    assert rows[1][4] == rows[0][5] and rows[2][4] == rows[1][5]  # each from where the last ended


def test_a_queryset_update_and_a_bulk_create_are_recorded_too(org, deal, stages):
    made = deal(org.alice, "open", "100", "2017-01-02")
    Opportunity.objects.filter(pk=made.pk).update(amount=D("90"), rep=org.bob)
    [loaded] = Opportunity.objects.bulk_create(
        [Opportunity(rep=org.bob, stage=stages["open"], amount=D("5"), created_on=dt.date(2017, 3, 1))]
    )
    assert [(r[1], r[3]) for r in history(made)] == [(D("100"), org.alice.pk), (D("90"), org.bob.pk)]
    loaded_pk = loaded.pk or Opportunity.objects.get(amount=D("5")).pk  # SQLite returns no ids
    assert OpportunityState.objects.filter(opportunity_id=loaded_pk).count() == 1


def test_raw_sql_is_recorded(org, deal):
    made = deal(org.alice, "open", "100", "2017-01-02")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE kpis_opportunity SET amount = 70 WHERE id = %s", [made.pk])
    assert [r[1] for r in history(made)] == [D("100"), D("70")]


def test_a_change_is_recorded_as_made_by_the_user_it_was_made_for(org, deal):
    made = deal(org.alice, "open", "100", "2017-01-02")
    editor = UserFactory()
    with recorded_by(editor):
        made.amount = D("120")
        made.save()
    made.amount = D("130")  # a command or a worker: nobody
    made.save()
    states = OpportunityState.objects.filter(opportunity=made).order_by("id")
    by = list(states.values_list("recorded_by", flat=True))
    assert by == [None, editor.pk, None]


def test_deleting_a_deal_deletes_its_history(org, deal):
    made = deal(org.alice, "open", "100", "2017-01-02")
    made.delete()
    assert not OpportunityState.objects.exists()


def test_a_rep_who_once_owned_a_deal_can_still_be_deleted(org, deal, stages):
    other = RepFactory(team=org.alice.team)
    made = deal(other, "open", "100", "2017-01-02")
    made.rep = org.alice
    made.save()
    other.delete()
    assert [r[3] for r in history(made)] == [None, org.alice.pk]
