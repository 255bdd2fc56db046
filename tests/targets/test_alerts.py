"""Daily alerts: the rep and her manager hear once when a target has just fallen behind."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from kpis.periods import KINDS, Period
from targets import alerts
from targets.models import Notification, Target
from targets.progress import VERDICT_FROM, elapsed_share
from targets.tasks import check_alerts
from tests.services import wait_for


@pytest.fixture
def alices_march(org, set_target):
    """Alice's March 2017: 3100 revenue, 100 a day."""
    org.alice.user.email = "alice@example.com"
    org.alice.user.save()
    org.east_manager.email = "east@example.com"
    org.east_manager.save()
    return set_target(org.east_manager, org.alice, "revenue_won", "2017-03", "3100")


def notified(org):
    return sorted(Notification.objects.values_list("user__username", flat=True))


def test_the_rep_and_her_manager_hear_once_when_she_falls_behind(org, alices_march, deal, recompute):
    # 10 Mar: 1000 expected, nothing won → behind
    assert alerts.check_targets(today=dt.date(2017, 3, 10)) == 2
    assert notified(org) == ["alice", "east_manager"]
    note = Notification.objects.get(user=org.alice.user)
    assert note.target == alices_march
    assert note.message == (
        "Alice is behind on revenue won for 2017-03: USD 0 of USD 3,100, USD 1,000 expected by now."
    )
    [email] = mail.outbox
    assert sorted(email.to) == ["alice@example.com", "east@example.com"]
    assert email.subject == "salesperf: Alice is behind"
    assert email.body == note.message

    # 11 Mar: still behind, already told
    assert alerts.check_targets(today=dt.date(2017, 3, 11)) == 0
    assert len(notified(org)) == 2
    assert len(mail.outbox) == 1

    # 2000 won on 5 Mar: on 12 Mar 1200 expected → on track, nothing to say
    deal(org.alice, "won", "2000", "2017-03-01", "2017-03-05")
    recompute()
    assert alerts.check_targets(today=dt.date(2017, 3, 12)) == 0
    alices_march.refresh_from_db()
    assert alices_march.last_status == Target.Status.ON_TRACK

    # 25 Mar: 2500 expected, still 2000 → pace 0.8, behind again: told again
    assert alerts.check_targets(today=dt.date(2017, 3, 25)) == 2
    assert notified(org) == ["alice", "alice", "east_manager", "east_manager"]
    assert len(mail.outbox) == 2


def test_at_risk_is_recorded_without_an_alert(org, alices_march, deal, recompute):
    # 950 of 1000 expected on 10 Mar: pace 0.95, at risk
    deal(org.alice, "won", "950", "2017-03-01", "2017-03-02")
    recompute()
    assert alerts.check_targets(today=dt.date(2017, 3, 10)) == 0
    alices_march.refresh_from_db()
    assert alices_march.last_status == Target.Status.AT_RISK
    assert not Notification.objects.exists()
    # 20 Mar: 2000 expected, 950 won → behind, from at risk: told
    assert alerts.check_targets(today=dt.date(2017, 3, 20)) == 2


def test_targets_of_other_periods_are_left_alone(org, alices_march):
    assert alerts.check_targets(today=dt.date(2017, 4, 10)) == 0
    alices_march.refresh_from_db()
    assert alices_march.last_status == ""


def test_a_team_target_tells_the_teams_manager_and_the_one_above(org, set_target):
    set_target(org.boss, org.west, "deals_won", "2017-Q1", "30")
    assert alerts.check_targets(today=dt.date(2017, 2, 1)) == 2
    assert notified(org) == ["boss", "west_manager"]
    assert Notification.objects.first().message.startswith(
        "West is behind on deals won for 2017-Q1: 0 of 30, 11 expected by now."
    )


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_daily_task_notifies_through_a_real_worker_once(org, celery_worker, set_target):
    today = timezone.localdate()
    # Nothing won this month (or quarter, or year) against a million: behind, once far enough in.
    current = [Period.containing(k, today) for k in KINDS]
    judged = [p for p in current if elapsed_share(p, today) >= VERDICT_FROM]
    if not judged:
        pytest.skip("the first days of a fiscal year: every period is too early to judge")
    set_target(org.east_manager, org.alice, "revenue_won", judged[0], "1000000")

    result = check_alerts.delay()

    wait_for(
        lambda: Notification.objects.filter(user=org.alice.user).exists(),
        timeout=20,
        message="a notification for Alice",
    )
    result.get(timeout=20)
    assert result.id in celery_worker.task_ids
    assert notified(org) == ["alice", "east_manager"]
    assert Target.objects.get().last_status == Target.Status.BEHIND

    # The next day's run (or a redelivery) has nothing new to say.
    again = check_alerts.delay()
    again.get(timeout=20)
    assert again.id in celery_worker.task_ids
    assert notified(org) == ["alice", "east_manager"]
