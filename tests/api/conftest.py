"""API fixtures: a client per role, and one row of every resource that belongs to Alice.

Roles, on the `org` fixture (region → east: alice, bob; west: carol):
rep = alice, other_rep = bob (same team, still not allowed to see Alice's rows),
manager = east_manager (Alice's manager), other_manager = west_manager, admin.
"""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import (
    AcquisitionSpendFactory,
    ActivityFactory,
    CustomerFactory,
    ForecastFactory,
    KpiSnapshotFactory,
    LeadFactory,
    NpsResponseFactory,
    OpportunityFactory,
    RepFactory,
    StageFactory,
    TeamFactory,
    UserFactory,
)
from tests.kpis.conftest import deal, recompute, snapshot, stages  # noqa: F401  (fixtures for the scorecard, bulk)

ROLES = ["anonymous", "rep", "other_rep", "manager", "other_manager", "admin"]


def user_for(org, role):
    return {
        "anonymous": None,
        "rep": org.alice.user,
        "other_rep": org.bob.user,
        "manager": org.east_manager,
        "other_manager": org.west_manager,
        "admin": org.admin,
    }[role]


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """Throttling counts requests in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client_as(org):
    """client_as("manager") or client_as(some_user): an API client signed in as that user."""

    def make(who):
        client = APIClient()
        user = user_for(org, who) if isinstance(who, str) else who
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def alices(org):
    """One row of every resource that is Alice's (or, for teams and reps, in her manager's team)."""
    stage = StageFactory()
    customer = CustomerFactory(owner=org.alice, acquired_on=dt.date(2016, 6, 1))
    return SimpleNamespace(
        team=TeamFactory(name="East North", parent=org.east),
        rep=RepFactory(full_name="Dave", team=org.east, user=UserFactory(username="dave")),
        stage=StageFactory(name="Spare", order=5),
        customer=customer,
        lead=LeadFactory(rep=org.alice, customer=customer),
        opportunity=OpportunityFactory(rep=org.alice, customer=customer, stage=stage),
        activity=ActivityFactory(rep=org.alice, customer=customer),
        nps=NpsResponseFactory(customer=customer),
        spend=AcquisitionSpendFactory(rep=org.alice),
        forecast=ForecastFactory(rep=org.alice),
        snapshot=KpiSnapshotFactory(scope="rep", subject_id=org.alice.pk),
    )
