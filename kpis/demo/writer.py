"""Inserts unsaved rows in batches, parents before children, and reports progress."""

from collections import Counter
from collections.abc import Callable

from django.db import reset_queries
from simple_history.utils import bulk_create_with_history

# (label, rows written, rows expected or None when not known in advance)
Progress = Callable[[str, int, int | None], None]


class BatchWriter:
    """Buffers rows per model; when one buffer is full, writes every buffer in dependency order.

    Rows may point at rows still buffered (an activity at its opportunity): those are written
    first, which gives them the primary key bulk_create then reads. bulk_create sends no
    signals, so writing facts here enqueues no incremental recompute; the caller recomputes.
    """

    def __init__(self, models, *, batch_size: int, totals: dict, progress: Progress):
        self.models, self.batch_size, self.totals, self.progress = list(models), batch_size, totals, progress
        self.pending = {model: [] for model in self.models}
        self.done = Counter()

    def add(self, model, rows) -> None:
        self.pending[model].extend(rows)
        if len(self.pending[model]) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        for model in self.models:
            rows = self.pending[model]
            if not rows:
                continue
            if hasattr(model, "history"):  # simple_history: keep the "created" entry too
                bulk_create_with_history(rows, model, batch_size=self.batch_size)
            else:
                model.objects.bulk_create(rows, batch_size=self.batch_size)
            self.done[model] += len(rows)
            rows.clear()
            self.progress(label(model), self.done[model], self.totals.get(model))
        # With DEBUG on, Django keeps the SQL of recent queries: here, megabytes each.
        reset_queries()


def label(model) -> str:
    return str(model._meta.verbose_name_plural)
