"""Incremental recompute: a changed fact, once committed, leaves every snapshot (rep, team, region,
company) exactly as a full recompute would, and leaves alone the periods before the change.

The on-commit callbacks run inside `django_capture_on_commit_callbacks(execute=True)`; Celery is
eager in tests, so `.delay()` recomputes in-process before the block ends.
"""

import datetime as dt
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from django.db import transaction

from kpis import engine, signals, tasks
from kpis.engine import recompute
from kpis.models import KpiPart, KpiSnapshot
from kpis.periods import Period
from tests.factories import (
    AcquisitionSpendFactory,
    ActivityFactory,
    ForecastFactory,
    LeadFactory,
    NpsResponseFactory,
    RepFactory,
    TeamFactory,
)

day = dt.date.fromisoformat


def utc(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.fixture
def world(org, deal, customer, stages):
    """A little of everything, Nov 2016 .. May 2017; bob's May 3 call is May's only fact.

    Besides the `org` region, a second top-level team, north, holds dave; west also holds eve,
    who has no facts at all.
    """
    north = TeamFactory(name="North")
    dave = RepFactory(full_name="Dave", team=north)
    eve = RepFactory(full_name="Eve", team=org.west)
    empty = TeamFactory(name="Empty", parent=north)
    ca = customer(org.alice, "2016-12-01")
    cb = customer(org.bob, "2017-01-10")
    cu = customer(None, "2016-11-15")
    cc = customer(org.carol, "2017-02-01", "2017-04-10")
    w = SimpleNamespace(
        org=org,
        north=north,
        dave=dave,
        eve=eve,
        empty=empty,
        cd=customer(dave, "2017-01-15", "2017-03-31"),
        o10=deal(dave, "won", "300", "2017-02-01", "2017-02-10"),
        stages=stages,
        deal=deal,
        ca=ca,
        cb=cb,
        cu=cu,
        cc=cc,
        o1=deal(org.alice, "won", "1000", "2017-01-05", "2017-01-20", customer=ca),
        o2=deal(org.alice, "won", "2000", "2017-02-01", "2017-03-10", customer=ca),
        o3=deal(org.alice, "lost", "500", "2017-01-10", "2017-02-15"),
        o4=deal(org.alice, "open", "700", "2017-03-01"),
        o5=deal(org.bob, "won", "1500", "2017-01-15", "2017-02-20", customer=cb),
        o6=deal(org.bob, "open", "900", None),
        o7=deal(org.carol, "won", "800", "2017-02-05", "2017-04-15", customer=cu),
        o8=deal(org.carol, "open", "300", None),
        o9=deal(org.carol, "won", "600", "2017-03-01", "2017-03-20", customer=ca),
        lead=LeadFactory(rep=org.alice, created_on=day("2017-01-12"), converted_on=day("2017-02-01")),
        call=ActivityFactory(rep=org.alice, kind="call", occurred_at=utc("2017-01-10T10:00")),
        may_call=ActivityFactory(rep=org.bob, kind="call", occurred_at=utc("2017-05-03T10:00")),
        nps=NpsResponseFactory(customer=ca, responded_on=day("2017-02-01"), score=9),
        east_spend=AcquisitionSpendFactory(team=org.east, spent_on=day("2017-01-20"), amount=D("400")),
        forecast=ForecastFactory(
            scope="rep",
            rep=org.alice,
            period_start=day("2017-02-01"),
            amount=D("2500"),
            submitted_at=utc("2017-01-20T12:00"),
        ),
    )
    LeadFactory(rep=org.bob, created_on=day("2017-02-03"))
    deal(dave, "open", "450", "2017-03-03")
    AcquisitionSpendFactory(team=north, spent_on=day("2017-01-25"), amount=D("80"))
    LeadFactory(rep=org.carol, created_on=day("2017-04-28"))
    ActivityFactory(rep=org.bob, kind="email", occurred_at=utc("2017-03-05T10:00"))
    ActivityFactory(rep=org.carol, kind="meeting", occurred_at=utc("2017-04-20T10:00"))
    NpsResponseFactory(customer=cu, responded_on=day("2017-03-01"), score=3)
    NpsResponseFactory(customer=cb, responded_on=day("2017-04-01"), score=10)
    AcquisitionSpendFactory(rep=org.carol, spent_on=day("2017-02-10"), amount=D("200"))
    AcquisitionSpendFactory(spent_on=day("2017-03-10"), amount=D("100"))
    ForecastFactory(
        scope="team",
        team=org.east,
        period_kind="quarter",
        period_start=day("2017-01-01"),
        amount=D("5000"),
        submitted_at=utc("2016-12-20T12:00"),
    )
    ForecastFactory(
        scope="company",
        period_start=day("2017-03-01"),
        amount=D("3000"),
        submitted_at=utc("2017-02-15T12:00"),
    )
    engine.recompute_all()
    return w


def save(obj, **changes):
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.save()


CHANGES = {
    # Opportunities
    "a new won deal": lambda w: w.deal(w.org.bob, "won", "400", "2017-02-01", "2017-03-05", customer=w.cb),
    "a deal's amount changed": lambda w: save(w.o2, amount=D("2600")),
    "a close date moved to a later month": lambda w: save(w.o5, closed_on=day("2017-04-05")),
    "a close date moved to an earlier month": lambda w: save(w.o2, closed_on=day("2017-02-25")),
    "a deal reassigned to a rep in another team": lambda w: save(w.o1, rep=w.org.carol),
    "a deal reassigned within the team": lambda w: save(w.o3, rep=w.org.bob),
    "a won deal turned lost": lambda w: save(w.o2, stage=w.stages["lost"]),
    "an open deal won": lambda w: save(w.o4, stage=w.stages["won"], closed_on=day("2017-04-02")),
    "a deal's customer changed": lambda w: save(w.o9, customer=w.cb),
    "a deal deleted": lambda w: w.o5.delete(),
    # Customers
    "a customer churned": lambda w: save(w.ca, churned_on=day("2017-03-15")),
    "a churn undone": lambda w: save(w.cc, churned_on=None),
    "a customer given an owner": lambda w: save(w.cu, owner=w.org.bob),
    "a customer acquired earlier": lambda w: save(w.cb, acquired_on=day("2016-12-20")),
    # NPS
    "an nps response added": lambda w: NpsResponseFactory(
        customer=w.cc, responded_on=day("2017-03-03"), score=2
    ),
    "an nps score changed": lambda w: save(w.nps, score=5),
    "an nps response deleted": lambda w: w.nps.delete(),
    # Activities and leads
    "an activity added": lambda w: ActivityFactory(
        rep=w.org.carol, kind="email", occurred_at=utc("2017-02-02T08:00")
    ),
    "an activity moved to another month": lambda w: save(w.call, occurred_at=utc("2017-03-01T08:00")),
    "an activity deleted": lambda w: w.call.delete(),
    "a lead added": lambda w: LeadFactory(rep=w.org.carol, created_on=day("2017-03-03")),
    "a lead unconverted": lambda w: save(w.lead, converted_on=None),
    # Acquisition spend
    "a team's spend added": lambda w: AcquisitionSpendFactory(
        team=w.org.west, spent_on=day("2017-02-05"), amount=D("300")
    ),
    "a region's spend added": lambda w: AcquisitionSpendFactory(
        team=w.org.region, spent_on=day("2017-01-05"), amount=D("50")
    ),
    "a team's spend changed": lambda w: save(w.east_spend, amount=D("450")),
    "a team's spend moved to another team": lambda w: save(w.east_spend, team=w.org.west),
    # Forecasts
    "a rep's forecast added": lambda w: ForecastFactory(
        scope="rep",
        rep=w.org.bob,
        period_start=day("2017-02-01"),
        amount=D("1000"),
        submitted_at=utc("2017-01-25T12:00"),
    ),
    "a team's forecast added": lambda w: ForecastFactory(
        scope="team",
        team=w.org.west,
        period_start=day("2017-03-01"),
        amount=D("700"),
        submitted_at=utc("2017-02-25T12:00"),
    ),
    "a company forecast added": lambda w: ForecastFactory(
        scope="company",
        period_kind="quarter",
        period_start=day("2017-01-01"),
        amount=D("6000"),
        submitted_at=utc("2016-12-01T12:00"),
    ),
    "a forecast changed": lambda w: save(w.forecast, amount=D("1800")),
    "a forecast deleted": lambda w: w.forecast.delete(),
    "a forecast moved to another period": lambda w: save(w.forecast, period_start=day("2017-03-01")),
    # The organisation and the stages
    "a rep moved to another team": lambda w: save(w.org.bob, team=w.org.west),
    "a customer deleted": lambda w: w.ca.delete(),
    "a stage's probability changed": lambda w: save(w.stages["open"], probability=D("0.7")),
    "an undated open deal added": lambda w: w.deal(w.org.carol, "open", "250", None),
    "an nps response moved to another owner's customer": lambda w: save(w.nps, customer=w.cb),
    "a team's spend recharged to a rep": lambda w: save(w.east_spend, team=None, rep=w.org.alice),
    "a deal reassigned to a rep in another top-level team": lambda w: save(w.o2, rep=w.dave),
    "a customer handed to a rep in another top-level team": lambda w: save(w.cb, owner=w.dave),
    "a team moved under another top-level team": lambda w: save(w.org.west, parent=w.north),
    # Changes that move the first or last month with data
    "a close date moved past the last month with data": lambda w: save(w.o5, closed_on=day("2017-06-10")),
    "a deal created before the first month with data": lambda w: w.deal(
        w.org.alice, "won", "100", "2016-09-05", "2016-09-25"
    ),
    "the last month's only fact deleted": lambda w: w.may_call.delete(),
}


def fresh(snapshot_rows):
    """The snapshots a recompute from nothing gives."""
    KpiSnapshot.objects.all().delete()
    engine.recompute_all()
    return snapshot_rows()


def differences(incremental, full):
    """[(scope, subject, metric, kind, start, incremental figures, full figures)] where they differ;
    figures are (numerator, denominator, value), None for a missing row."""
    inc = {row[:5]: row[5:] for row in incremental}
    ref = {row[:5]: row[5:] for row in full}
    return sorted(
        (*key, inc.get(key), ref.get(key)) for key in inc.keys() | ref.keys() if inc.get(key) != ref.get(key)
    )


def incrementally(change, w, capture):
    with capture(execute=True) as callbacks:
        change(w)
    return callbacks


@pytest.mark.parametrize("name", list(CHANGES))
def test_after_a_change_the_snapshots_equal_a_full_recompute(
    name, world, snapshot_rows, django_capture_on_commit_callbacks
):
    callbacks = incrementally(CHANGES[name], world, django_capture_on_commit_callbacks)
    assert callbacks, "the change enqueued no recompute"
    incremental = snapshot_rows()
    full = fresh(snapshot_rows)
    assert differences(incremental, full) == []


DELETIONS = {
    "a rep without facts": ("rep", lambda w: w.eve),
    "a team without reps": ("team", lambda w: w.empty),
}


@pytest.mark.parametrize("name", list(DELETIONS))
def test_after_deleting_a_rep_or_team_everyone_else_equals_a_full_recompute(
    name, world, snapshot_rows, django_capture_on_commit_callbacks
):
    scope, gone = DELETIONS[name]
    gone = gone(world)
    pk = gone.pk
    with django_capture_on_commit_callbacks(execute=True):
        gone.delete()
    # The deleted subject's own rows may linger until the nightly full recompute drops them.
    incremental = {row for row in snapshot_rows() if row[:2] != (scope, pk)}
    assert differences(incremental, fresh(snapshot_rows)) == []


@pytest.mark.parametrize("name", list(DELETIONS))
def test_the_nightly_recompute_drops_the_snapshots_of_a_deleted_rep_or_team(
    name, world, django_capture_on_commit_callbacks
):
    scope, gone = DELETIONS[name]
    gone = gone(world)
    pk = gone.pk
    with django_capture_on_commit_callbacks(execute=True):
        gone.delete()
    tasks.fan_out_recompute.delay()
    assert not KpiSnapshot.objects.filter(scope=scope, subject_id=pk).exists()


def test_a_changed_amount_reaches_the_rep_its_teams_and_the_company(
    world, snapshot, django_capture_on_commit_callbacks
):
    org = world.org
    with django_capture_on_commit_callbacks(execute=True):
        save(world.o2, amount=D("2600"))
    # alice March: 2000 → 2600; east adds bob's 0; the company adds carol's March 600.
    assert snapshot(org.alice, "revenue_won", "2017-03") == D("2600")
    assert snapshot(org.east, "revenue_won", "2017-03") == D("2600")
    assert snapshot(org.region, "revenue_won", "2017-Q1") == D("5700")  # 1000 + 2600 + 1500 + 600
    # The company adds carol's April 800 and north's dave, 300 in February: 5700 + 800 + 300.
    assert snapshot("company", "revenue_won", "2017") == D("6800")


def test_a_deal_moved_to_another_rep_leaves_the_old_rep_and_reaches_the_new(
    world, snapshot, django_capture_on_commit_callbacks
):
    org = world.org
    with django_capture_on_commit_callbacks(execute=True):
        save(world.o1, rep=org.carol)
    # The January 1000 moves from alice (east) to carol (west); the region keeps it.
    assert snapshot(org.alice, "revenue_won", "2017-01") == 0
    assert snapshot(org.east, "revenue_won", "2017-01") == 0
    assert snapshot(org.carol, "revenue_won", "2017-01") == D("1000")
    assert snapshot(org.west, "revenue_won", "2017-01") == D("1000")
    assert snapshot(org.region, "revenue_won", "2017-01") == D("1000")


OLD = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def test_an_incremental_recompute_leaves_the_periods_before_the_change_untouched(
    world, django_capture_on_commit_callbacks
):
    org = world.org
    KpiSnapshot.objects.update(computed_at=OLD)
    # A marker no recompute of alice's January would keep.
    jan = {"scope": "rep", "subject_id": org.alice.pk, "metric": "revenue_won", "period_kind": "month"}
    KpiSnapshot.objects.filter(**jan, period_start=day("2017-01-01")).update(numerator=123, value=123)
    with django_capture_on_commit_callbacks(execute=True):
        # o2 was created Feb 1 and closes Mar 10: nothing before February changes.
        save(world.o2, amount=D("2600"))
    for row in KpiSnapshot.objects.all():
        period = Period.from_start(row.period_kind, row.period_start)
        if period.end < day("2017-02-01"):
            assert row.computed_at == OLD, row
    marker = KpiSnapshot.objects.get(**jan, period_start=day("2017-01-01"))
    assert marker.numerator == 123
    # The figures that did change were rewritten.
    for kind, start in [("month", "2017-03-01"), ("quarter", "2017-01-01"), ("year", "2017-01-01")]:
        for scope, pk in [
            ("rep", org.alice.pk),
            ("team", org.east.pk),
            ("team", org.region.pk),
            ("company", 0),
        ]:
            row = KpiSnapshot.objects.get(
                scope=scope, subject_id=pk, metric="revenue_won", period_kind=kind, period_start=day(start)
            )
            assert row.computed_at > OLD, row


def test_an_incremental_recompute_leaves_other_branches_untouched(world, django_capture_on_commit_callbacks):
    org = world.org
    KpiSnapshot.objects.update(computed_at=OLD)
    with django_capture_on_commit_callbacks(execute=True):
        # alice's deal for alice's customer: neither bob, carol, west nor north is concerned.
        save(world.o2, amount=D("2600"))
    others = [("rep", org.bob.pk), ("rep", org.carol.pk), ("team", org.west.pk)]
    others += [("rep", world.dave.pk), ("team", world.north.pk)]
    for scope, pk in others:
        assert not KpiSnapshot.objects.filter(scope=scope, subject_id=pk, computed_at__gt=OLD).exists()


@pytest.mark.django_db(transaction=True)
def test_changes_committed_one_after_another_each_reach_the_snapshots(org, deal, snapshot):
    # Real commits (no test transaction around them): each one's hooks run as it commits.
    with transaction.atomic():
        won = deal(org.alice, "won", "1000", "2017-01-05", "2017-01-20")
    assert snapshot(org.alice, "revenue_won", "2017-01") == D("1000")
    with transaction.atomic():
        save(won, amount=D("1500"))
    assert snapshot(org.alice, "revenue_won", "2017-01") == D("1500")
    with transaction.atomic():
        save(won, amount=D("1700"))
    assert snapshot(org.alice, "revenue_won", "2017-01") == D("1700")
    assert snapshot(org.east, "revenue_won", "2017-01") == D("1700")
    assert snapshot("company", "revenue_won", "2017-01") == D("1700")


@pytest.mark.parametrize(
    "which, amount, gains, keeps",
    [
        ("o1", "1100", "east", "west"),  # January: alice was in east
        ("o2", "2600", "west", "east"),  # March: alice was in west
    ],
)
def test_a_deal_of_a_rep_who_moved_mid_quarter_moves_only_the_team_it_was_credited_to(
    which,
    amount,
    gains,
    keeps,
    world,
    snapshot,
    snapshot_rows,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    org = world.org
    with django_capture_on_commit_callbacks(execute=True):
        org.alice.team = org.west
        org.alice.save(effective=day("2017-02-15"))
    assert KpiPart.objects.filter(
        rep=org.alice, period_kind="quarter", period_start=day("2017-01-01")
    ).exists()
    before = {name: snapshot(getattr(org, name), "revenue_won", "2017-Q1") for name in ("east", "west")}
    region, company = (
        snapshot(org.region, "revenue_won", "2017-Q1"),
        snapshot("company", "revenue_won", "2017"),
    )

    def everything(**kwargs):
        raise AssertionError(f"recomputed everything ({kwargs}): each team's part should have moved")

    monkeypatch.setattr(recompute, "recompute_all", everything)
    obj = getattr(world, which)
    change = D(amount) - obj.amount
    with django_capture_on_commit_callbacks(execute=True):
        save(obj, amount=D(amount))
    assert snapshot(getattr(org, gains), "revenue_won", "2017-Q1") == before[gains] + change
    assert snapshot(getattr(org, keeps), "revenue_won", "2017-Q1") == before[keeps]
    assert snapshot(org.region, "revenue_won", "2017-Q1") == region + change
    assert snapshot("company", "revenue_won", "2017") == company + change
    monkeypatch.undo()
    incremental = snapshot_rows()
    assert differences(incremental, fresh(snapshot_rows)) == []


@pytest.mark.django_db
def test_a_loader_inside_another_leaves_the_commits_work_to_the_outer_one(django_capture_on_commit_callbacks):
    """import_crm's mapped files load inside its own bulk_changes: one recompute and one refresh
    of the planner's statistics on commit, not one per file, and the signals stay paused."""
    with django_capture_on_commit_callbacks() as alone, signals.bulk_changes():
        pass
    with django_capture_on_commit_callbacks() as nested, signals.bulk_changes():
        with signals.bulk_changes(recompute=False):
            pass
        paused_after_inner = not signals._live()
    assert paused_after_inner and signals._live()
    assert len(nested) == len(alone) > 0
