"""Writes the seed's rows in batches and reports progress: COPY on PostgreSQL, bulk_create elsewhere."""

import itertools
from collections import Counter
from collections.abc import Callable, Iterator

from django.db import connection, reset_queries
from simple_history.utils import bulk_create_with_history

# (label, rows written, rows expected or None when not known in advance)
Progress = Callable[[str, int, int | None], None]
COPY_BATCH_SIZE = 10_000
BULK_BATCH_SIZE = 5_000
KEY_BLOCK = 10_000


def copy_supported() -> bool:
    return connection.vendor == "postgresql"


class KeyPool:
    """Primary keys handed out before their rows are written, so that other rows can point at them."""

    def __init__(self):
        self.keys: dict[type, Iterator[int]] = {}

    def take(self, model) -> int:
        if model not in self.keys:
            postgresql = connection.vendor == "postgresql"
            self.keys[model] = _sequence_keys(model) if postgresql else _counted_keys(model)
        return next(self.keys[model])


def _sequence_keys(model) -> Iterator[int]:
    """PostgreSQL: from the table's own sequence, a block at a time, so that they never collide
    with another session's rows (the unused rest of the last block is a gap, as after a rollback)."""
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, model._meta.pk.column, KEY_BLOCK],
            )
            block = cursor.fetchall()
        yield from (key for (key,) in block)


def _counted_keys(model) -> Iterator[int]:
    """SQLite: on from the largest key; the seed's transaction already holds the one write lock."""
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX({q(model._meta.pk.column)}) FROM {q(model._meta.db_table)}")
        largest = cursor.fetchone()[0] or 0
    return itertools.count(largest + 1)


class BatchWriter:
    """Buffers rows per model and writes a model's rows whenever it has a batch of them.

    The models in `columns` (the big fact tables) come as tuples in that column order: on
    PostgreSQL (`copy`) they are streamed in with COPY; elsewhere they become instances for
    bulk_create, which is fast enough at the sizes SQLite is for. Every other model comes as
    unsaved instances, written with bulk_create. Neither sends signals, so writing facts here
    enqueues no recompute; the caller recomputes once.

    A row may point at a row of another model that is still buffered: its key came from a
    KeyPool, and foreign keys are checked after the load (Django makes them DEFERRABLE INITIALLY
    DEFERRED; on PostgreSQL the seed recreates them after the load, see bulk_load).
    """

    def __init__(self, models, *, columns: dict, copy: bool, totals: dict, progress: Progress):
        self.columns, self.copy, self.totals, self.progress = columns, copy, totals, progress
        self.batch_size = COPY_BATCH_SIZE if copy else BULK_BATCH_SIZE
        self.pending = {model: [] for model in models}
        self.done = Counter()

    def add(self, model, rows) -> None:
        pending = self.pending[model]
        pending.extend(rows)
        if len(pending) >= self.batch_size:
            self._write(model)

    def flush(self) -> None:
        for model, rows in self.pending.items():
            if rows:
                self._write(model)

    def _write(self, model) -> None:
        rows = self.pending[model]
        if model not in self.columns:
            if hasattr(model, "history"):  # simple_history: keep the "created" entry too
                bulk_create_with_history(rows, model, batch_size=BULK_BATCH_SIZE)
            else:
                model.objects.bulk_create(rows, batch_size=BULK_BATCH_SIZE)
        elif self.copy:
            self._copy(model, rows)
        else:
            names = self.columns[model]
            instances = [model(**dict(zip(names, row, strict=True))) for row in rows]
            model.objects.bulk_create(instances, batch_size=BULK_BATCH_SIZE)
        self.done[model] += len(rows)
        rows.clear()
        self.progress(label(model), self.done[model], self.totals.get(model))
        # With DEBUG on, Django keeps the SQL of recent queries: here, megabytes each.
        reset_queries()

    def _copy(self, model, rows) -> None:
        # Binary COPY: no text to format here nor to parse there; the column types tell psycopg
        # how to encode each value.
        q = connection.ops.quote_name
        table = q(model._meta.db_table)
        columns = ", ".join(q(model._meta.get_field(name).column) for name in self.columns[model])
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {columns} FROM {table} LIMIT 0")
            types = [column.type_code for column in cursor.description]
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)


def label(model) -> str:
    return str(model._meta.verbose_name_plural)
