"""Fixtures for the targets tests; the fact-building ones are the KPI tests', the worker the
integration tests'."""

import pytest

from targets.services import target_save
from tests.integration.conftest import celery_worker  # noqa: F401  (shared fixtures)
from tests.kpis.conftest import deal, recompute, snapshot, stages  # noqa: F401


def subject_of(subject) -> tuple[str, int]:
    """A Rep, a Team or "company" as (scope, subject_id)."""
    if subject == "company":
        return "company", 0
    return subject._meta.model_name, subject.pk


@pytest.fixture
def set_target(db):
    """set_target(user, subject, metric, period, value=None, **target_save kwargs) → Target."""

    def save(user, subject, metric, period, value=None, **kwargs):
        scope, pk = subject_of(subject)
        return target_save(
            user=user, scope=scope, subject_id=pk, metric=metric, period=period, value=value, **kwargs
        )

    return save
