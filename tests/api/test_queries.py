"""A list costs the same number of queries for 3 rows as for 30."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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


def customer(org):
    return CustomerFactory(owner=org.alice)


# path → make one row that Alice's manager may see (each with its own related rows, so that a
# missing select_related would show as one more query per row)
ROWS = {
    "teams": lambda org: TeamFactory(parent=org.east, manager=UserFactory()),
    "reps": lambda org: RepFactory(team=org.east),
    "customers": customer,
    "leads": lambda org: LeadFactory(rep=RepFactory(team=org.east), customer=customer(org)),
    "opportunities": lambda org: OpportunityFactory(
        rep=RepFactory(team=org.east), customer=customer(org), stage=StageFactory(name=f"S{org.n}")
    ),
    "activities": lambda org: ActivityFactory(rep=RepFactory(team=org.east), customer=customer(org)),
    "nps-responses": lambda org: NpsResponseFactory(customer=customer(org)),
    "spend": lambda org: AcquisitionSpendFactory(rep=RepFactory(team=org.east)),
    "forecasts": lambda org: ForecastFactory(rep=RepFactory(team=org.east)),
    "stages": lambda org: StageFactory(name=f"S{org.n}"),
    "snapshots": lambda org: KpiSnapshotFactory(scope="rep", subject_id=RepFactory(team=org.east).pk),
}


def queries_to_list(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/{path}/")
    assert response.status_code == 200
    return len(queries), response.json()["count"]


@pytest.mark.parametrize("path", list(ROWS))
@pytest.mark.parametrize("role", ["manager", "admin"])
def test_a_list_runs_a_constant_number_of_queries(org, client_as, path, role):
    client = client_as(role)
    make = ROWS[path]

    def add(n):
        for _ in range(n):
            org.n = getattr(org, "n", 0) + 1
            make(org)

    add(3)
    few, count_few = queries_to_list(client, path)
    add(27)
    many, count_many = queries_to_list(client, path)

    assert count_many - count_few == 27
    assert many == few, f"{few} queries for 3 rows, {many} for 30"
