import pytest

from demo.management.commands import seed_demo as seed_demo_command


@pytest.fixture(autouse=True)
def recompute_calls(monkeypatch):
    """Snapshots are recompute_kpis' business, tested there; here it is only handed over to."""
    called = []
    monkeypatch.setattr(seed_demo_command, "call_command", lambda name, **kwargs: called.append(name))
    return called
