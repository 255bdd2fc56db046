"""What every bad-input test checks: the answer, and that the database is as it was."""

import hashlib
from contextlib import contextmanager

from django.utils.html import escape

from kpis.models import (
    AcquisitionSpend,
    Activity,
    Customer,
    ForecastSubmission,
    Lead,
    NpsResponse,
    Opportunity,
    Stage,
)
from targets.models import Target
from teams.models import Rep, Team, User

TARGETS = (Target, Target.history.model)
CRM = (User, Team, Rep, Customer, Opportunity, Stage)
FACTS = (Customer, Lead, Opportunity, Activity, NpsResponse, AcquisitionSpend, ForecastSubmission, Stage)


def fingerprint(model) -> tuple[int, str]:
    """(row count, checksum of every column of every row): any insert, update or delete shows."""
    digest, count = hashlib.sha256(), 0
    for row in model._base_manager.order_by("pk").values_list().iterator():
        digest.update(repr(row).encode())
        count += 1
    return count, digest.hexdigest()


@contextmanager
def assert_unchanged(*models):
    """Fails if the block inserts, updates or deletes a row of any of `models`."""
    before = {model: fingerprint(model) for model in models}
    yield
    changed = [
        f"{model.__name__}: {before[model][0]} rows before, {after[0]} after"
        + ("" if after[0] != before[model][0] else " (some changed)")
        for model in models
        if (after := fingerprint(model)) != before[model]
    ]
    assert not changed, "the database changed: " + "; ".join(changed)


def assert_client_error(response, *, status=None):
    """A 4xx (the given one, if any), never a server error."""
    assert 400 <= response.status_code < 500, response.status_code
    if status is not None:
        assert response.status_code == status, response.status_code


def assert_shown(response, message: str):
    """The page shows `message` (HTML-escaped, as templates write it)."""
    assert escape(message) in response.content.decode(), f"{message!r} is not on the page"
