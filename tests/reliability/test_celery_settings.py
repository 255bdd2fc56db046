"""The Celery settings the fault tests rely on hold for every task (docs/reliability.md)."""

from salesperf.celery_app import app

app.loader.import_default_modules()  # every app's tasks registered
OURS = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_task_is_acknowledged_late_and_requeued_if_its_worker_dies():
    assert OURS
    for name, task in OURS.items():
        assert task.acks_late, name
        assert task.reject_on_worker_lost, name


def test_redis_waits_longer_than_any_task_may_run_before_handing_it_to_another_worker():
    visibility_timeout = app.conf.broker_transport_options["visibility_timeout"]
    limits = {name: task.time_limit or app.conf.task_time_limit for name, task in OURS.items()}
    assert all(limits.values()), limits  # every task has a hard time limit
    assert max(limits.values()) < visibility_timeout, limits
