"""What the fault tests compare: every snapshot's figures, against a clean recompute."""

import datetime as dt

from demo.services import DemoSize, demo_seed
from kpis import engine
from kpis.models import KpiSnapshot

KEY = ("scope", "subject_id", "metric", "period_kind", "period_start")
FIGURES = (*KEY, "numerator", "denominator", "value")
# Big enough that a full recompute takes a second or two on the workers, so kills land mid-task.
SIZE = DemoSize(reps=12, opportunities=900, activities=3000, months=6)
TODAY = dt.date(2024, 6, 15)


def seed_facts(size: DemoSize = SIZE) -> None:
    """Teams, reps and every kind of fact (the demo's generator), and no snapshots yet."""
    demo_seed(size=size, seed=8, today=TODAY)


def snapshot_rows() -> list[tuple]:
    return list(KpiSnapshot.objects.values_list(*FIGURES))


def assert_no_duplicates(rows: list[tuple]) -> None:
    keys = [row[: len(KEY)] for row in rows]
    assert len(keys) == len(set(keys)), "two snapshots share a key"


def clean_recompute() -> set[tuple]:
    """The reference: no snapshots, then a full recompute in this process."""
    KpiSnapshot.objects.all().delete()
    engine.recompute_all(full=True)
    return set(snapshot_rows())


def differences(got: set[tuple], expected: set[tuple], limit: int = 5) -> str:
    """A readable summary of what differs, for assertion messages."""
    got_by_key = {row[: len(KEY)]: row for row in got}
    expected_by_key = {row[: len(KEY)]: row for row in expected}
    missing = sorted(expected_by_key.keys() - got_by_key.keys(), key=str)
    extra = sorted(got_by_key.keys() - expected_by_key.keys(), key=str)
    wrong = sorted(
        (k for k in expected_by_key.keys() & got_by_key.keys() if got_by_key[k] != expected_by_key[k]),
        key=str,
    )
    lines = [f"{len(missing)} missing, {len(extra)} extra, {len(wrong)} with other figures"]
    lines += [f"  missing {k}" for k in missing[:limit]]
    lines += [f"  extra {got_by_key[k]}" for k in extra[:limit]]
    lines += [
        f"  got {got_by_key[k][len(KEY) :]} want {expected_by_key[k][len(KEY) :]} for {k}"
        for k in wrong[:limit]
    ]
    return "\n".join(lines)
