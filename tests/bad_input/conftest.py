"""Bad-input fixtures: the `org` of tests/conftest.py (region → east: alice, bob; west: carol),
a target of Alice's that a bad write must leave alone, and clients signed in by role."""

import pytest
from django.test import Client

from targets.services import target_save


@pytest.fixture
def signed_in(db):
    """signed_in(user) → a test client with that user's session."""

    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def alice_q1(org):
    """Alice's revenue target for 2017-Q1: 1000, set by her manager."""
    return target_save(
        user=org.east_manager,
        scope="rep",
        subject_id=org.alice.pk,
        metric="revenue_won",
        period="2017-Q1",
        value="1000",
    )
