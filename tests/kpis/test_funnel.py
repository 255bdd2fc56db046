"""The stage funnel (kpis.funnel), worked out by hand from deals walked through stages on known
days (their history loaded with deal_history.states_load).

Stages in order: Prospecting, Engaging, Proposal; then Won (Lost ends a deal where it stood).
"Today" is 2017-03-31. Deals (days in a stage: from the day it entered to the day it left):

- A1 (Alice, opened 01-02): Prospecting → Engaging 01-12 → Proposal 01-22 → Won 02-01.
  Days: Prospecting 10, Engaging 10, Proposal 10.
- A2 (Alice, 01-05): Prospecting → Proposal 01-15 (skips Engaging), still there. Prospecting 10.
- A3 (Alice, 02-03): Prospecting → Engaging 02-08 → Lost 02-28. Prospecting 5, Engaging 20.
- A4 (Alice, 02-10): Prospecting throughout (never left it); expected close 03-31, moved to 04-30
  on 02-20 and to 05-31 on 03-10: 2 slips.
- A5 (Alice, 2016-12-20): Prospecting, still; opened before Q1, so in none of its funnels.
- B1 (Bob, 03-05): created in Engaging → Won 03-25. Engaging 20.
- B2 (Bob, 01-20): Prospecting → Engaging 02-01 → Prospecting 02-11 → Engaging 02-21, still.
  Prospecting 12 + 10 = 22; Engaging 10 + 38 (02-21 to today, where it still is) = 48.
  Expected close 04-30, pulled in to 03-31 on 02-11, out to 04-15 on 02-21: 1 slip.
- C1 (Carol, west, 01-10): Prospecting → Lost 01-20. Prospecting 10.
"""

import datetime as dt
from decimal import Decimal as D
from types import SimpleNamespace

import pytest

from kpis import deal_history
from kpis.funnel import stage_funnel
from kpis.models import KpiSnapshot, Opportunity, OpportunityState, Stage
from kpis.periods import Period
from teams.subjects import COMPANY, Subject
from tests.factories import KpiSnapshotFactory, StageFactory, lost_stage, won_stage

pytestmark = pytest.mark.django_db

TODAY = dt.date(2017, 3, 31)
P, E, PR = "Prospecting", "Engaging", "Proposal"
WALKS = {
    # name: (rep, opened, [(day the state took effect, stage, expected close), …])
    "A1": ("alice", "2017-01-02", [(None, P, None), ("2017-01-12", E, None), ("2017-01-22", PR, None),
                                   ("2017-02-01", "Won", None)]),
    "A2": ("alice", "2017-01-05", [(None, P, None), ("2017-01-15", PR, None)]),
    "A3": ("alice", "2017-02-03", [(None, P, None), ("2017-02-08", E, None), ("2017-02-28", "Lost", None)]),
    "A4": ("alice", "2017-02-10", [(None, P, "2017-03-31"), ("2017-02-20", P, "2017-04-30"),
                                   ("2017-03-10", P, "2017-05-31")]),
    "A5": ("alice", "2016-12-20", [(None, P, None)]),
    "B1": ("bob", "2017-03-05", [(None, E, None), ("2017-03-25", "Won", None)]),
    "B2": ("bob", "2017-01-20", [(None, P, "2017-04-30"), ("2017-02-01", E, "2017-04-30"),
                                 ("2017-02-11", P, "2017-03-31"), ("2017-02-21", E, "2017-04-15")]),
    "C1": ("carol", "2017-01-10", [(None, P, None), ("2017-01-20", "Lost", None)]),
}  # fmt: skip


def funnel_stages():
    return {
        "Prospecting": StageFactory(name="Prospecting", order=1, probability=D("0.1")),
        "Engaging": StageFactory(name="Engaging", order=2, probability=D("0.4")),
        "Proposal": StageFactory(name="Proposal", order=3, probability=D("0.6")),
        "Won": won_stage(),
        "Lost": lost_stage(),
    }


def walk(rep, name: str, opened: str, steps, stages) -> Opportunity:
    """A deal as it stands after `steps`, with that history: each state from the day it took
    effect (the first from the opening) to the next one's."""
    day = dt.date.fromisoformat
    last_day, last_stage, last_expected = steps[-1]
    closed = stages[last_stage].outcome != Stage.Outcome.OPEN
    deal = Opportunity.objects.create(
        name=name,
        rep=rep,
        stage=stages[last_stage],
        amount=D("1000"),
        created_on=day(opened),
        closed_on=day(last_day or opened) if closed else None,
        expected_close_on=day(last_expected) if last_expected else None,
    )
    starts = [deal_history.day_start(day(d)) if d else None for d, _, _ in steps]
    deal_history.states_load(
        [
            OpportunityState(
                opportunity=deal,
                since=since,
                until=until,
                stage=stages[stage],
                amount=deal.amount,
                closed_on=day(d or opened) if stages[stage].outcome != Stage.Outcome.OPEN else None,
                expected_close_on=day(expected) if expected else None,
                rep=rep,
                recorded_at=since or deal_history.day_start(day(opened)),
            )
            for (d, stage, expected), since, until in zip(steps, starts, [*starts[1:], None], strict=True)
        ]
    )
    return deal


def with_deals(org):
    """The `org` with the deals above (and their stages), by name; the other tests' fixture too."""
    stages = funnel_stages()
    deals = {
        name: walk(getattr(org, rep), name, opened, steps, stages)
        for name, (rep, opened, steps) in WALKS.items()
    }
    return SimpleNamespace(**vars(org), deals=deals, stages=stages)


@pytest.fixture
def funnel_deals(org):
    return with_deals(org)


def funnel(subject, label):
    everything = KpiSnapshot.objects.all()
    return stage_funnel(subject=subject, period=Period.parse(label), today=TODAY, snapshots=everything)


def steps(f):
    return [(s.name, s.reached, s.conversion) for s in f.steps]


def medians(f):
    return [(t.name, t.median_days, t.deals) for t in f.days_in_stage]


def test_a_reps_quarter_counts_each_stage_reached_a_skipped_one_passed(funnel_deals):
    f = funnel(Subject.rep(funnel_deals.alice.pk), "2017-Q1")
    assert f.opened == 4  # A1–A4; A5 opened in December
    # Prospecting: all 4. Engaging: A1 (won), A2 (skipped it for Proposal), A3 (lost there) = 3.
    # Proposal: A1, A2 = 2. Won: A1.
    assert steps(f) == [
        ("Prospecting", 4, None),
        ("Engaging", 3, D("0.75")),
        ("Proposal", 2, D("0.666667")),
        ("Won", 1, D("0.5")),
    ]


def test_median_days_in_stage_are_over_the_deals_that_left_it(funnel_deals):
    f = funnel(Subject.rep(funnel_deals.alice.pk), "2017-Q1")
    # Prospecting: A1 10, A2 10, A3 5 (A4 is still there) → 10. Engaging: A1 10, A3 20 → 15.
    # Proposal: A1 10 (A2 is still there).
    assert medians(f) == [("Prospecting", 10, 3), ("Engaging", 15, 2), ("Proposal", 10, 1)]


def test_a_team_adds_its_members_deals_and_counts_a_return_to_a_stage(funnel_deals):
    f = funnel(Subject.team(funnel_deals.east.pk), "2017-Q1")
    assert f.opened == 6  # Alice's 4 and Bob's B1, B2
    # Prospecting 6 (B1 was created in Engaging, and won: it passed Prospecting); Engaging: A1,
    # A2, A3, B1, B2 = 5; Proposal: A1, A2, B1 (won) = 3; Won: A1, B1 = 2.
    assert steps(f) == [
        ("Prospecting", 6, None),
        ("Engaging", 5, D("0.833333")),
        ("Proposal", 3, D("0.6")),
        ("Won", 2, D("0.666667")),
    ]
    # Prospecting: 5, 10, 10, 22 (B2: 12 + 10) → (10 + 10) / 2 = 10.
    # Engaging: 10, 20, 20, 48 (B2: 10, and 38 days from 02-21 to today, where it still is) → 20.
    assert medians(f) == [("Prospecting", 10, 4), ("Engaging", 20, 4), ("Proposal", 10, 1)]


def test_a_month_with_no_deal_past_a_stage_leaves_its_conversion_undefined(funnel_deals):
    f = funnel(Subject.rep(funnel_deals.alice.pk), "2017-02")
    # A3 and A4: both prospected, A3 engaged then lost; nobody reached Proposal.
    assert steps(f) == [
        ("Prospecting", 2, None),
        ("Engaging", 1, D("0.5")),
        ("Proposal", 0, D("0")),
        ("Won", 0, None),  # 0 of 0: undefined, not 0 %
    ]
    assert medians(f) == [("Prospecting", 5, 1), ("Engaging", 20, 1), ("Proposal", None, 0)]


def test_slips_count_each_move_of_the_expected_close_later(funnel_deals):
    f = funnel(Subject.team(funnel_deals.east.pk), "2017-Q1")
    assert [(s.deal, s.rep, s.times, s.first, s.latest) for s in f.slipped] == [
        ("A4", "Alice", 2, dt.date(2017, 3, 31), dt.date(2017, 5, 31)),
        # 04-30, pulled in to 03-31, then out to 04-15: one slip, and it ends earlier than it began.
        ("B2", "Bob", 1, dt.date(2017, 4, 30), dt.date(2017, 4, 15)),
    ]
    assert f.slips == 3
    assert funnel(Subject.rep(funnel_deals.bob.pk), "2017-02").slipped == []  # B2 opened in January
    assert (f.slipped_deals, funnel(Subject.rep(funnel_deals.bob.pk), "2017-02").slipped_deals) == (2, 0)


def test_slipped_deals_are_listed_a_page_at_a_time(funnel_deals):
    east, period = Subject.team(funnel_deals.east.pk), Period.parse("2017-Q1")
    pages = [
        stage_funnel(
            subject=east, period=period, today=TODAY, snapshots=KpiSnapshot.objects, per_page=1, page=n
        )
        for n in (1, 2, 3)
    ]
    assert [[s.deal for s in p.slipped] for p in pages] == [["A4"], ["B2"], []]
    assert {(p.slipped_deals, p.slips) for p in pages} == {(2, 3)}  # the totals, whatever the page


def test_the_company_and_the_region_cover_every_team(funnel_deals):
    for subject in (COMPANY, Subject.team(funnel_deals.region.pk)):
        f = funnel(subject, "2017-Q1")
        assert f.opened == 7  # east's 6 and Carol's C1, lost from Prospecting
        assert [s.reached for s in f.steps] == [7, 5, 3, 2]
        assert medians(f)[0] == ("Prospecting", 10, 5)  # 5, 10, 10, 10, 22


def test_a_rep_who_left_the_team_before_the_periods_end_takes_their_deals_along(funnel_deals):
    bob = funnel_deals.bob
    bob.team = funnel_deals.west
    bob.save(effective=dt.date(2017, 3, 15))
    east = funnel(Subject.team(funnel_deals.east.pk), "2017-Q1")
    west = funnel(Subject.team(funnel_deals.west.pk), "2017-Q1")
    assert (east.opened, west.opened) == (4, 3)  # as of 31 March: Bob's B1, B2 are west's
    # At January's end Bob was still east's: A1, A2 and his B2.
    assert funnel(Subject.team(funnel_deals.east.pk), "2017-01").opened == 3


def test_the_stored_kpis_are_read_beside_the_funnel_never_computed(funnel_deals):
    alice = funnel_deals.alice
    KpiSnapshotFactory(
        scope="rep", subject_id=alice.pk, metric="win_rate", period_kind="quarter",
        period_start=dt.date(2017, 1, 1), numerator=D(1), value=D("0.5"),
    )  # fmt: skip
    f = funnel(Subject.rep(alice.pk), "2017-Q1")
    assert f.figures["win_rate"].value == D("0.5")
    assert f.figures["avg_deal_value"].state is None  # no snapshot: shown as no figure


def test_stage_order_is_data(funnel_deals):
    Stage.objects.filter(name="Proposal").update(order=0)  # now first
    f = funnel(Subject.rep(funnel_deals.alice.pk), "2017-Q1")
    # Every deal reached Proposal and Prospecting, now the first two; Engaging, now last: A1 (won)
    # and A3 — A2 went from Prospecting to Proposal, now a step back.
    assert [(s.name, s.reached) for s in f.steps] == [
        ("Proposal", 4),
        ("Prospecting", 4),
        ("Engaging", 2),
        ("Won", 1),
    ]


def test_a_deal_first_recorded_won_passed_every_stage(funnel_deals):
    # C2, loaded already won (an import of a closed deal): no open state in its history.
    walk(funnel_deals.carol, "C2", "2017-01-15", [(None, "Won", None)], funnel_deals.stages)
    f = funnel(Subject.team(funnel_deals.west.pk), "2017-Q1")
    # C1 prospected and was lost; C2 counts in every step, so no step exceeds the one before.
    assert steps(f) == [
        ("Prospecting", 2, None),
        ("Engaging", 1, D("0.5")),
        ("Proposal", 1, D("1")),
        ("Won", 1, D("1")),
    ]
    assert medians(f) == [("Prospecting", 10, 1), ("Engaging", None, 0), ("Proposal", None, 0)]
