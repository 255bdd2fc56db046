"""The race of tests/targets/test_races.py on PostgreSQL, with two real connections: the
second save's insert meets the first's committed row, and its transaction must stay usable to
answer (a savepoint around the write), not fail with "current transaction is aborted"."""

import threading

import pytest
from django.db import connection

from targets import services
from targets.models import Target
from targets.services import CONFLICT, target_save

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_second_of_two_concurrent_saves_is_told_to_reload(org, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("two connections racing: PostgreSQL")
    looked, first_committed = threading.Event(), threading.Event()
    existing = services._existing

    def existing_then_wait(changes):
        found = existing(changes)
        if threading.current_thread().name == "second":
            looked.set()  # it has found no target, and now lets the first save commit
            first_committed.wait(10)
        return found

    monkeypatch.setattr(services, "_existing", existing_then_wait)
    outcome = {}

    def second():
        try:
            target_save(
                user=org.east_manager,
                scope="rep",
                subject_id=org.alice.pk,
                metric="revenue_won",
                period="2017-Q1",
                value="2",
            )
        except Exception as exc:  # the outcome is what the test looks at
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=second, name="second")
    thread.start()
    assert looked.wait(10)
    target_save(
        user=org.east_manager,
        scope="rep",
        subject_id=org.alice.pk,
        metric="revenue_won",
        period="2017-Q1",
        value="1",
    )
    first_committed.set()
    thread.join(10)

    assert outcome["error"].messages == [CONFLICT]
    assert list(Target.objects.values_list("value", flat=True)) == [1]
