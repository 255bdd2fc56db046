"""The forecast roll-up (targets.forecast) and its submissions, worked out by hand: see
tests/targets/forecast_book.py for the deals, targets and the figures they give."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kpis.models import ForecastCategory, ForecastSubmission, Opportunity, Stage
from targets.forecast import forecast_rollup
from targets.services import forecast_submit, opportunity_categorize
from teams.subjects import Subject
from tests.factories import ForecastFactory, RepFactory, StageFactory

from .forecast_book import days_ago, make_book

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(org):
    return make_book(org)


def rollup(user, subject, book):
    return forecast_rollup(user=user, subject=subject, period=book.quarter, now=timezone.now())


def figures(line):
    return {
        "quota": line.quota,
        "closed": line.closed,
        "commit": line.commit,
        "best_case": line.best_case,
        "pipeline": line.pipeline,
        "gap": line.gap,
        "no_close_date": line.no_close_date,
    }


def test_a_reps_roll_up_adds_closed_won_and_her_deals_by_category(org, book):
    [alice] = rollup(org.alice.user, Subject.rep(org.alice.pk), book).lines

    assert figures(alice) == {
        "quota": D(6000),  # 3 months × 2,000
        "closed": D(1000),
        "commit": D(3000),  # 1,000 + 2,000
        "best_case": D(6000),  # + 3,000
        "pipeline": D(10000),  # + 4,000; the omitted 500 and next quarter's 9,000 never
        "gap": D(3000),
        "no_close_date": 1,  # the 700
    }
    assert alice.coverage == D("1.8")  # 9,000 / 5,000


def test_a_teams_roll_up_has_a_line_per_rep_and_its_own(org, book):
    forecast = rollup(org.east_manager, Subject.team(org.east.pk), book)

    assert [line.name for line in forecast.lines] == ["Alice", "Bob", "East"]
    _, bob, east = forecast.lines
    assert figures(bob) == {
        "quota": D(3000),
        "closed": D(500),
        "commit": D(2000),  # 500 + the 1,500 Bob set to commit
        "best_case": D(2000),
        "pipeline": D(4500),
        "gap": D(1000),
        "no_close_date": 0,
    }
    assert bob.coverage == D("1.6")
    assert figures(east) == {
        "quota": D(9000),  # the reps' month targets: the team has none of its own
        "closed": D(1500),
        "commit": D(5000),
        "best_case": D(8000),
        "pipeline": D(14500),  # carol's 800 is west's
        "gap": D(4000),
        "no_close_date": 1,
    }
    assert east.coverage == D(13000) / D(7500)


def test_a_region_has_a_line_per_child_team(org, book):
    lines = rollup(org.boss, Subject.team(org.region.pk), book).lines

    assert [(line.name, line.commit) for line in lines] == [
        ("East", D(5000)),
        ("West", D(800)),  # nothing closed, carol's 800 commit
        ("Region", D(5800)),
    ]
    assert lines[1].quota is None and lines[1].coverage is None  # west has no target: undefined


def test_a_manager_submits_the_teams_number_as_the_roll_up_plus_an_adjustment(org, book):
    forecast_submit(
        user=org.alice.user, scope="rep", subject_id=org.alice.pk, period=book.quarter, amount="3500"
    )

    made = forecast_submit(
        user=org.east_manager, scope="team", subject_id=org.east.pk, period=book.quarter, adjustment="-500"
    )

    # Alice's submission 3,500 + Bob's commit 2,000 (he submitted none) = 5,500; less 500.
    made.refresh_from_db()
    assert (made.rollup, made.adjustment, made.amount) == (D(5500), D(-500), D(5000))
    assert (made.submitted_by, made.category) == (org.east_manager, "commit")
    east = rollup(org.east_manager, Subject.team(org.east.pk), book).total
    assert east.submission == made and east.rollup == D(5500)


def test_change_since_last_week_is_against_the_latest_submission_a_week_old(org, book):
    for amount, days in (("3000", 10), ("3200", 8), ("3500", 1)):
        ForecastFactory(
            rep=org.alice,
            period_kind="quarter",
            period_start=book.quarter.start,
            amount=D(amount),
            submitted_at=days_ago(days),
            submitted_by=org.alice.user,
        )

    alice, bob, _ = rollup(org.east_manager, Subject.team(org.east.pk), book).lines

    assert (alice.submission.amount, alice.week_ago.amount, alice.change) == (D(3500), D(3200), D(300))
    assert (bob.submission, bob.change) == (None, None)  # nothing to compare: undefined, not 0


def test_submissions_are_kept_each_a_new_row(org, book):
    for amount in ("3000", "3100"):
        forecast_submit(
            user=org.alice.user, scope="rep", subject_id=org.alice.pk, period=book.quarter, amount=amount
        )

    assert list(ForecastSubmission.objects.order_by("pk").values_list("amount", "submitted_by")) == [
        (D(3000), org.alice.user.pk),
        (D(3100), org.alice.user.pk),
    ]


@pytest.mark.parametrize(
    ("who", "changes", "field"),
    [
        ("alice", {"scope": "team", "subject": "east", "adjustment": "0"}, "subject"),
        ("east_manager", {"scope": "team", "subject": "west", "adjustment": "0"}, "subject"),
        ("alice", {"amount": "-1"}, "amount"),
        ("east_manager", {"scope": "team", "subject": "east", "adjustment": "-999999"}, "adjustment"),
        ("alice", {"adjustment": "100"}, "adjustment"),  # a rep has no roll-up to adjust
        ("alice", {"period": "2020-Q1"}, "period"),  # ended
        ("alice", {"period": "2026-Q9"}, "period"),
    ],
)
def test_a_bad_submission_is_refused_on_its_field_and_nothing_is_saved(org, book, who, changes, field):
    user = org.alice.user if who == "alice" else getattr(org, who)
    changes = dict(changes)
    subject = {"alice": org.alice, "east": org.east, "west": org.west}[changes.pop("subject", "alice")]
    kwargs = {"scope": "rep", "period": book.quarter, "amount": "1"} | changes
    if "adjustment" in kwargs:
        kwargs.pop("amount")

    with pytest.raises(ValidationError) as refused:
        forecast_submit(user=user, subject_id=subject.pk, **kwargs)

    assert list(refused.value.message_dict) == [field]
    assert not ForecastSubmission.objects.exists()


def test_a_rep_sets_an_open_deals_category_and_not_a_closed_ones(org, book):
    deal = Opportunity.objects.get(rep=org.alice, amount=3000)
    won = Opportunity.objects.get(rep=org.alice, amount=1000)

    opportunity_categorize(user=org.alice.user, opportunity_id=deal.pk, category="commit")
    with pytest.raises(ValidationError) as closed:
        opportunity_categorize(user=org.alice.user, opportunity_id=won.pk, category="commit")
    with pytest.raises(ValidationError) as not_hers:
        opportunity_categorize(user=org.bob.user, opportunity_id=deal.pk, category="omitted")

    deal.refresh_from_db()
    assert deal.forecast_category == "commit"
    assert list(closed.value.message_dict) == ["forecast_category"]
    assert list(not_hers.value.message_dict) == ["opportunity"]
    # Alice's commit is now 1,000 + 2,000 + 3,000.
    assert rollup(org.alice.user, Subject.rep(org.alice.pk), book).total.commit == D(6000)


def test_a_new_stage_takes_its_category_from_its_probability_and_closing_a_deal_clears_its_own(book):
    lost = StageFactory(name="Lost", order=10, probability=D(0), outcome=Stage.Outcome.LOST)
    assert [s.forecast_category for s in (*book.stages, lost)] == [
        ForecastCategory.PIPELINE,
        ForecastCategory.BEST_CASE,
        ForecastCategory.COMMIT,
        ForecastCategory.COMMIT,  # won
        ForecastCategory.OMITTED,
    ]
    deal = Opportunity.objects.get(forecast_category="omitted")
    deal.stage, deal.closed_on = lost, deal.created_on
    deal.save()
    deal.refresh_from_db()
    assert deal.forecast_category == ""


def test_the_roll_up_reads_a_constant_number_of_queries(org, book, django_assert_num_queries):
    def count(n_reps):
        RepFactory.create_batch(n_reps, team=org.east)
        with django_assert_num_queries(7) as captured:
            rollup(org.east_manager, Subject.team(org.east.pk), book)
        return len(captured)

    assert count(3) == count(45) == 7  # 5 then 50 reps in the team
