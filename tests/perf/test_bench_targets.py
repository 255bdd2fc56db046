"""bench_targets, small, on PostgreSQL: targets written in bulk take the same statements for a
team four times larger, and the run keeps nothing. No timings are checked (CI shares the
machine); the full-size figures are in docs/performance.md."""

import json

import pytest
from django.core.management import call_command
from django.db import connection

from targets.models import Target
from teams.models import Rep, Team, User

pytestmark = pytest.mark.django_db


def bench(tmp_path, reps, csv_rows) -> dict:
    out = tmp_path / f"bench-{reps}.json"
    call_command("bench_targets", reps=reps, csv_rows=csv_rows, singles=5, tries=1, json_file=str(out))
    return json.loads(out.read_text())


def test_writing_targets_in_bulk_takes_the_same_statements_for_a_larger_team(org, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite splits bulk inserts into batches of 999 parameters: PostgreSQL")
    rows = (Target.every.count(), Target.history.count(), Team.objects.count(), Rep.objects.count())
    users = User.objects.count()

    small, large = bench(tmp_path, 3, 100), bench(tmp_path, 12, 400)

    assert (small["cells"], large["cells"]) == (36, 144)
    names = [f["name"] for f in large["figures"]]
    assert names[:6] == [
        "grid 144 cells, service, new",
        "grid 144 cells, service, changed",
        "grid 144 cells, POST, new",
        "grid 144 cells, POST, changed",
        "CSV 400 rows, new",
        "CSV 400 rows, again (replace)",
    ]
    bulk = slice(0, 6)
    assert [f["queries"] for f in small["figures"][bulk]] == [f["queries"] for f in large["figures"][bulk]]
    # The service: a dozen statements at most. One target alone: its branch of the tree, its
    # rep's team, the target if set, the write and its history, four savepoint statements.
    assert all(f["queries"] <= 12 for f in large["figures"][:2])
    single = large["figures"][-1]
    assert single["name"] == "target_save, one call" and single["queries"] <= 9
    assert all(f["best_s"] > 0 for f in large["figures"])
    # Rolled back: no team, rep, user, target or history row is left.
    assert (Target.every.count(), Target.history.count(), Team.objects.count(), Rep.objects.count()) == rows
    assert User.objects.count() == users
