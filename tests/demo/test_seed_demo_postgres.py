"""seed_demo on PostgreSQL: COPY writes exactly the rows bulk_create would, and the indexes and
foreign keys it drops for the load come back as they were."""

import datetime as dt

import pytest
from django.db import connection

from demo import plans, services, writer
from demo.facts import COLUMNS
from demo.services import DemoSize, demo_seed
from kpis.models import Customer, Opportunity
from teams.models import Rep, User

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

SIZE = DemoSize(reps=5, opportunities=400, activities=1200, months=8)
TODAY = dt.date(2025, 11, 20)
# Key columns and the table they point into.
KEYS = {
    "id": None,
    "owner_id": Rep,
    "rep_id": Rep,
    "customer_id": Customer,
    "opportunity_id": Opportunity,
    "recorded_by_id": User,
}


def fact_rows() -> dict[str, list[tuple]]:
    """Every written column of every fact table, in key order, each key replaced by its rank in its
    table: two seeds take different keys from the sequences, and --flush makes new reps."""
    ranks = {model: ranks_of(model) for model in {Rep, User, *COLUMNS}}
    found = {}
    for model, columns in COLUMNS.items():
        points_into = [(KEYS[column] or model) if column in KEYS else None for column in columns]
        found[model.__name__] = [
            tuple(
                value if table is None or value is None else ranks[table][value]
                for value, table in zip(row, points_into, strict=True)
            )
            for row in model.objects.order_by("pk").values_list(*columns)
        ]
    return found


def ranks_of(model) -> dict[int, int]:
    return {key: rank for rank, key in enumerate(model.objects.order_by("pk").values_list("pk", flat=True))}


def schema() -> set[tuple]:
    """The fact tables' indexes and constraints, as PostgreSQL would write them out."""
    tables = [model._meta.db_table for model in COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid), true FROM pg_index
            WHERE indrelid = ANY(%s::regclass[])
            UNION ALL
            SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint
            WHERE conrelid = ANY(%s::regclass[])
            """,
            [tables, tables],
        )
        return set(cursor.fetchall())


def test_copy_writes_the_same_rows_as_bulk_create(monkeypatch):
    # Small batches and key blocks, so that the seed goes through several of each.
    monkeypatch.setattr(writer, "COPY_BATCH_SIZE", 150)
    monkeypatch.setattr(writer, "KEY_BLOCK", 64)

    monkeypatch.setattr(services, "copy_supported", lambda: False)
    demo_seed(size=SIZE, seed=11, today=TODAY)
    bulk = fact_rows()
    monkeypatch.setattr(services, "copy_supported", lambda: True)
    demo_seed(size=SIZE, seed=11, today=TODAY, flush=True)
    copied = fact_rows()

    assert len(copied["Opportunity"]) == SIZE.opportunities
    assert len(copied["Activity"]) == SIZE.activities
    assert all(copied.values())
    for model in copied:
        assert copied[model] == bulk[model], model


def test_the_indexes_and_foreign_keys_come_back_as_they_were():
    before = schema()

    demo_seed(size=SIZE, seed=11, today=TODAY)

    assert schema() == before
    assert any("FOREIGN KEY (opportunity_id)" in definition for _, definition, _ in before)
    assert any(name == "opportunity_newest_first" for name, _, _ in before)


def test_a_failed_seed_leaves_no_rows_and_the_schema_whole(monkeypatch):
    before = schema()

    def fail(**kwargs):
        raise RuntimeError("failed while planning targets")

    monkeypatch.setattr(plans, "targets", fail)
    with pytest.raises(RuntimeError, match="planning targets"):
        demo_seed(size=SIZE, seed=11, today=TODAY)

    assert schema() == before
    assert not Opportunity.objects.exists()
    assert not Rep.objects.exists()
