"""PostgreSQL's advice for loading much data: drop the indexes and foreign keys, load, recreate them.

Building an index once from all its rows, and checking a foreign key with one join, is many
times faster than keeping them up to date row by row while millions of rows come in.
https://www.postgresql.org/docs/current/populate.html

And the seed writes each deal's whole history itself, so the database's trigger that gives every
new deal its first state (kpis.deal_history) stays off while it loads.
"""

from contextlib import contextmanager

from django.db import connection

from kpis.deal_history import install_triggers

from .writer import Progress

# kpis.deal_history's trigger that records an inserted deal's first state.
FIRST_STATE_TRIGGER = "opportunity_states_inserted"


@contextmanager
def first_states_not_recorded():
    """Deals inserted in the block get no state from the database: the caller writes their
    histories. Must run inside the caller's transaction: if the load fails, the rollback brings
    the trigger back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            connection.check_constraints()  # ALTER TABLE refuses a table with checks pending
            cursor.execute(f"ALTER TABLE kpis_opportunity DISABLE TRIGGER {FIRST_STATE_TRIGGER}")
        else:  # SQLite cannot disable a trigger; no IF EXISTS, so that a renamed one is noticed
            cursor.execute(f"DROP TRIGGER {FIRST_STATE_TRIGGER}")
    yield
    if connection.vendor == "postgresql":
        connection.check_constraints()
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE kpis_opportunity ENABLE TRIGGER {FIRST_STATE_TRIGGER}")
    else:
        install_triggers()


@contextmanager
def indexes_and_foreign_keys_rebuilt_after(models, *, progress: Progress):
    """Drop the tables' plain indexes and foreign keys, and create them again, with the same names
    and definitions, when the block ends, then analyze the tables. Primary keys, unique and check
    constraints stay.

    Must run inside the caller's transaction: if the load fails, the rollback restores them.
    """
    tables = [model._meta.db_table for model in models]
    # ALTER TABLE refuses a table with foreign key checks still pending in this transaction.
    connection.check_constraints()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT index.indexrelid::regclass::text, pg_get_indexdef(index.indexrelid)
            FROM pg_index index
            WHERE index.indrelid = ANY(%s::regclass[])
              AND NOT EXISTS (
                SELECT FROM pg_constraint con
                WHERE con.conindid = index.indexrelid AND con.contype IN ('p', 'u', 'x')
              )
            ORDER BY 1
            """,
            [tables],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            """
            SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid)
            FROM pg_constraint
            WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
            ORDER BY 1, 2
            """,
            [tables],
        )
        foreign_keys = cursor.fetchall()
        for table, name, _ in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")

    yield

    steps = [definition for _, definition in indexes] + [
        f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}" for table, name, definition in foreign_keys
    ]
    with connection.cursor() as cursor:
        for done, step in enumerate(steps, start=1):
            cursor.execute(step)
            progress("indexes and keys", done, len(steps))
        # Fresh planner statistics for the tables just filled: without them (autovacuum off, or
        # not yet round) PostgreSQL scans a million-row table to read one rep's deals' history.
        for table in tables:
            cursor.execute(f"ANALYZE {table}")
