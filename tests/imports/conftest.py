"""Mapped-import fixtures, on the `org` fixture (region → east: alice, bob; west: carol; admin):
Won, Lost and Engaging stages, e-mails for Alice and Bob, the two customers the files name, and
helpers to read a file of tests/imports/files and map it as the usual exports suggest."""

from pathlib import Path

import pytest

from kpis.imports import read_table, suggest_columns
from kpis.models import ImportMapping
from tests.factories import CustomerFactory
from tests.kpis.conftest import snapshot, stages  # noqa: F401  (fixtures)

FILES = Path(__file__).parent / "files"


@pytest.fixture
def people(org, stages):  # noqa: F811  (the fixture imported above)
    """Alice and Bob with e-mails; Acme Corp (C-1, Alice's) and Globex (ACC-1, Bob's)."""
    for rep, email in ((org.alice, "alice@example.com"), (org.bob, "bob@example.com")):
        rep.user.email = email
        rep.user.save(update_fields=["email"])
    org.acme = CustomerFactory(external_id="C-1", name="Acme Corp", owner=org.alice)
    org.globex = CustomerFactory(external_id="ACC-1", name="Globex", owner=org.bob)
    return org


def table(name: str, data: bytes | None = None):
    return read_table(data if data is not None else (FILES / name).read_bytes(), name=name)


def mapping(kind: str, t, **fields) -> ImportMapping:
    """An unsaved mapping of `t` (a Table) for `kind`: the suggested columns, and `fields`."""
    return ImportMapping(name=f"test {kind}", kind=kind, columns=suggest_columns(kind, t.header), **fields)


def hubspot_mapping(stages) -> ImportMapping:  # noqa: F811
    """hubspot_deals.csv: US dates, HubSpot's stage names mapped to ours."""
    t = table("hubspot_deals.csv")
    return mapping(
        "opportunities",
        t,
        date_format="%m/%d/%Y",
        values={
            "stage": {
                "Closed Won": stages["won"].pk,
                "Closed Lost": stages["lost"].pk,
                "Appointment Scheduled": stages["open"].pk,
            }
        },
    )
