"""seed_demo gives every deal a dated history (demo.history) that ends in the deal as it is now."""

import datetime as dt
import itertools
from collections import defaultdict
from decimal import Decimal

import pytest
from django.utils import timezone

from demo.services import DemoSize, demo_seed
from kpis.models import Opportunity, OpportunityState, Stage
from tests.demo.test_seed_demo import digest, seed

pytestmark = pytest.mark.django_db

TRACKED = ("stage_id", "amount", "closed_on", "expected_close_on", "rep_id")


def histories() -> dict[int, list[dict]]:
    found = defaultdict(list)
    rows = OpportunityState.objects.order_by("opportunity_id", "since").values(
        "opportunity_id", "since", "until", "recorded_by_id", "recorded_at", *TRACKED
    )
    for row in rows:
        found[row["opportunity_id"]].append(row)
    for states in found.values():  # PostgreSQL sorts NULL last, SQLite first
        states.sort(key=lambda s: (s["since"] is not None, s["since"] or 0))
    return found


def test_every_deals_states_tile_from_its_opening_and_end_in_its_row():
    seed()
    deals = {d["id"]: d for d in Opportunity.objects.values("id", "rep__user_id", *TRACKED)}
    states = histories()

    assert states.keys() == deals.keys()
    for pk, deal in deals.items():
        history = states[pk]
        assert history[0]["since"] is None and history[-1]["until"] is None
        assert [s["until"] for s in history[:-1]] == [s["since"] for s in history[1:]], pk
        assert {k: history[-1][k] for k in TRACKED} == {k: deal[k] for k in TRACKED}, pk
        for state in history[1:]:  # each from the local midnight of its day
            assert timezone.localtime(state["since"]).time() == dt.time(0)
        assert {s["recorded_by_id"] for s in history} == {deal["rep__user_id"]}  # the rep made them


def test_a_deal_opens_in_the_first_open_stage_moves_forward_and_closes_on_its_close_date():
    seed()
    stages = {s.pk: s for s in Stage.objects.all()}
    first_open = min((s for s in stages.values() if s.outcome == "open"), key=lambda s: s.order)

    for history in histories().values():
        path = [stages[s["stage_id"]] for s in history]
        assert path[0] == first_open
        orders = [stage.order for stage in path if stage.outcome == "open"]
        assert orders == sorted(orders)  # forward only, never back
        last = history[-1]
        if path[-1].outcome != "open":  # won or lost from its close date, open until then
            assert timezone.localtime(last["since"]).date() == last["closed_on"]
            assert all(s["closed_on"] is None for s in history[:-1])
            assert all(stage.outcome == "open" for stage in path[:-1])


def test_deals_have_several_states_slips_and_revised_amounts():
    seed()
    history = histories()
    open_deals = Opportunity.objects.filter(stage__outcome="open")

    assert sum(map(len, history.values())) / len(history) >= 2.5
    assert not open_deals.filter(expected_close_on=None).exists()
    slipped = [
        pk
        for pk, states in history.items()
        if any(a["expected_close_on"] < b["expected_close_on"] for a, b in itertools.pairwise(states))
    ]
    revised = [pk for pk, states in history.items() if len({s["amount"] for s in states}) > 1]
    assert len(slipped) > 0.1 * len(history)
    assert len(revised) > 0.1 * len(history)
    # Nothing dated after today.
    assert max(s["since"] for states in history.values() for s in states if s["since"]) <= timezone.now()


def test_the_same_seed_gives_the_same_histories():
    def states_digest():
        return digest(
            OpportunityState.objects.all(),
            "opportunity__external_id",
            "since",
            "until",
            "stage__name",
            "amount",
            "closed_on",
            "expected_close_on",
            "recorded_at",
            "recorded_by__username",
        )

    seed()
    first = states_digest()
    seed("--flush")
    assert states_digest() == first
    seed("--flush", "--seed", "7")
    assert states_digest() != first


def test_after_the_seed_the_database_records_changes_again():
    size = DemoSize(reps=2, opportunities=20, activities=0, months=3)
    demo_seed(size=size, seed=1, today=dt.date(2025, 5, 9))
    deal = Opportunity.objects.filter(stage__outcome="open").first()
    before = deal.states.count()

    deal.amount += Decimal("1")
    deal.save()

    assert deal.states.count() == before + 1
    assert deal.states.get(until=None).amount == deal.amount
