"""Root fixtures. Services: see tests/services.py for how a missing one fails in CI."""

from types import SimpleNamespace

import pytest

from tests.factories import RepFactory, TeamFactory, UserFactory
from tests.services import pytest_runtest_setup, pytest_sessionstart  # noqa: F401  (the services switch)


@pytest.fixture
def org(db):
    """A small organisation: region → two teams, a manager each, reps, an admin and an outsider.

    region (managed by `boss`)
    ├── east (managed by `east_manager`): alice, bob
    └── west (managed by `west_manager`): carol
    """
    boss = UserFactory(username="boss")
    east_manager = UserFactory(username="east_manager")
    west_manager = UserFactory(username="west_manager")
    region = TeamFactory(name="Region", manager=boss)
    east = TeamFactory(name="East", parent=region, manager=east_manager)
    west = TeamFactory(name="West", parent=region, manager=west_manager)
    alice = RepFactory(full_name="Alice", team=east, user=UserFactory(username="alice"))
    bob = RepFactory(full_name="Bob", team=east, user=UserFactory(username="bob"))
    carol = RepFactory(full_name="Carol", team=west, user=UserFactory(username="carol"))
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    outsider = UserFactory(username="outsider")
    return SimpleNamespace(
        boss=boss,
        east_manager=east_manager,
        west_manager=west_manager,
        region=region,
        east=east,
        west=west,
        alice=alice,
        bob=bob,
        carol=carol,
        admin=admin,
        outsider=outsider,
    )


BIG_TEAM_SIZE = 120  # × 12 months: a grid of 1,440 cells, over Django's 1,000 form fields


@pytest.fixture
def big_team(org):
    """A team of BIG_TEAM_SIZE reps under the region, managed by `big_manager`."""
    manager = UserFactory(username="big_manager")
    team = TeamFactory(name="Big", parent=org.region, manager=manager)
    reps = RepFactory.create_batch(BIG_TEAM_SIZE, team=team)
    return SimpleNamespace(manager=manager, team=team, reps=reps)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The real hasher is slow on purpose; tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache():
    """Throttle counters live in the cache (Redis in CI): every test starts from none."""
    from django.core.cache import cache

    cache.clear()
    yield
