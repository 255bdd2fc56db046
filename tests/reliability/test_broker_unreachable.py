"""A fact saved while the Celery broker cannot be reached is saved, and the request succeeds.

The recompute is enqueued on commit, after the data is saved: a refused broker connection then
is logged as a warning (the snapshots catch up at the nightly recompute), not answered with a
503 for data that was written. The failure is real: Celery publishes to a port nobody listens
on, as the production settings do (broker and result backend on the same Redis). Needs no
services: the connection is refused at once.
"""

import logging
import threading
from decimal import Decimal

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from kpis.models import Lead, Stage
from salesperf.celery_app import app as celery_app
from tests.factories import LeadFactory, RepFactory

pytestmark = pytest.mark.django_db(transaction=True)  # real commits: the on-commit hooks run

CLOSED = "redis://127.0.0.1:6399/0"  # no Redis there
CAUGHT_UP = "the snapshots will catch up at the nightly recompute"


@pytest.fixture
def broker_down(monkeypatch):
    """Tasks go to a broker (and result backend) that refuses connections, not in-process."""
    # Celery reads these from the environment first (CI sets CELERY_BROKER_URL), then its config.
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        monkeypatch.setenv(name, CLOSED)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    for key, value in {"broker_url": CLOSED, "result_backend": CLOSED, "task_always_eager": False}.items():
        monkeypatch.setitem(celery_app.conf, key, value)
    # Celery keeps the connection pools and the result backend it made first: start afresh, so
    # that the URLs above are used; monkeypatch puts the app's own back afterwards.
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
    monkeypatch.setattr(celery_app, "_backend_cache", None)
    monkeypatch.setattr(celery_app, "_local", threading.local())  # where it keeps a backend per thread


def broker_warnings(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "kpis.signals" and r.levelno == logging.WARNING and CAUGHT_UP in r.getMessage()
    ]


def test_a_lead_posted_to_the_api_is_saved_and_answered_201(org, broker_down, caplog):
    client = APIClient()
    client.force_login(org.east_manager)

    with caplog.at_level(logging.WARNING, logger="kpis.signals"):
        response = client.post(
            "/api/v1/leads/",
            {"name": "Broker down", "rep": org.alice.pk, "created_on": "2017-01-02"},
            format="json",
        )

    assert response.status_code == 201, response.content
    lead = Lead.objects.get(pk=response.json()["id"])
    assert (lead.name, lead.rep_id) == ("Broker down", org.alice.pk)
    [warning] = broker_warnings(caplog)
    assert "kpis.recompute_subject" in warning and "unreachable" in warning


def test_a_stage_saved_in_the_admin_is_saved_and_redirects(org, broker_down, caplog, client):
    # A stage's probability reaches every weighted pipeline: its hook sends the whole recompute.
    client.force_login(org.admin)

    with caplog.at_level(logging.WARNING, logger="kpis.signals"):
        response = client.post(
            "/admin/kpis/stage/add/",
            {"name": "Negotiating", "order": "3", "probability": "0.6", "outcome": Stage.Outcome.OPEN},
        )

    assert response.status_code == 302, response.content[:500]
    assert Stage.objects.get(name="Negotiating").probability == Decimal("0.6")
    [warning] = broker_warnings(caplog)
    assert "kpis.fan_out_recompute" in warning


def test_a_transaction_of_many_facts_gives_up_on_the_broker_once(org, broker_down, caplog):
    # Five reps' leads in one request would be five refused sends (each retried by kombu for
    # most of a second); after the first refusal the rest of the transaction sends nothing.
    reps = [org.alice, org.bob, org.carol, *RepFactory.create_batch(2, team=org.east)]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="kpis.signals"), transaction.atomic():
        for rep in reps:
            LeadFactory(rep=rep, created_on="2017-01-02")

    assert Lead.objects.filter(rep__in=reps).count() == 5
    assert len(broker_warnings(caplog)) == 1
