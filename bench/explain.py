"""EXPLAIN (ANALYZE, BUFFERS) of every statement a full recompute sends: where its time goes.

The recompute runs once more with an execute wrapper that, before each SELECT or INSERT, has
PostgreSQL run and explain it on a separate raw cursor; then everything is rolled back. Each
statement so runs twice (its second run finds warm caches, and the upsert finds its rows already
there), so these plans are for reading, never for the timings bench_kpis reports.
"""

import time

from django.db import connection, transaction

from kpis import engine

EXPLAINED = ("SELECT", "(SELECT", "INSERT", "WITH")


def explain_full() -> list[tuple[float, str, str]]:
    """[(milliseconds, statement, plan)] of a full recompute, slowest first."""
    plans = []

    def explain(execute, sql, params, many, context):
        if not many and sql.lstrip().upper().startswith(EXPLAINED):
            with context["connection"].connection.cursor() as raw:  # not wrapped again
                started = time.perf_counter()
                raw.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                plan = "\n".join(line for (line,) in raw.fetchall())
                plans.append(((time.perf_counter() - started) * 1000, " ".join(sql.split()), plan))
        return execute(sql, params, many, context)

    with transaction.atomic(), connection.execute_wrapper(explain):
        engine.recompute_all(full=True)
        transaction.set_rollback(True)
    return sorted(plans, reverse=True)


def write_plans(plans, out) -> None:
    total = sum(ms for ms, _, _ in plans)
    out.write(f"{len(plans)} statements explained, {total:,.0f} ms in all (EXPLAIN ANALYZE runs)\n")
    for ms, sql, plan in plans:
        out.write(f"\n-- {ms:,.0f} ms: {sql[:300]}{'…' if len(sql) > 300 else ''}\n{plan}\n")
