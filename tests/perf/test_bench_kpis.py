"""bench_kpis, small, on PostgreSQL: a regression check on the engine's speed ratios.

The bounds are generous on purpose — CI machines are noisy and small data favours fixed costs;
the real figures come from the full-size run in docs/performance.md. What is strict: the naive
loop's figures, computed another way, must equal the engine's snapshots.
"""

import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from demo.services import DemoSize, demo_seed
from kpis.models import KpiSnapshot
from teams.models import Membership

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Seen at this size on the 2-core machine: full / floor 14–36, naive / full 17–56 (noisy:
# the naive sample is small and the full recompute is mostly fixed costs at this size).
MAX_FULL_OVER_FLOOR = 80
MIN_NAIVE_OVER_FULL = 8


def test_the_engine_stays_near_the_floor_and_far_ahead_of_the_naive_loop(tmp_path):
    today = timezone.localdate()
    demo_seed(
        size=DemoSize(reps=20, opportunities=20_000, activities=60_000, months=12),
        seed=3,
        today=today,
    )
    memberships = list(Membership.objects.values_list("pk", "rep_id", "team_id", "since", "until"))
    out, plans = tmp_path / "bench.json", tmp_path / "plans.txt"
    call_command(
        "bench_kpis",
        naive_reps=3,
        incremental_tries=10,
        json_file=str(out),
        explain_file=str(plans),
        max_full_over_floor=MAX_FULL_OVER_FLOOR,
        min_naive_over_full=MIN_NAIVE_OVER_FULL,
    )
    report = json.loads(out.read_text())
    assert report["opportunities"] == 20_000
    assert report["naive_mismatches"] == 0
    assert report["snapshots"] > 0
    # The nightly run over the stored table finds every figure as the forced run left it (unless
    # a day ended in between: a period that ended then has its forecast accuracy now).
    assert report["again_s"] > 0
    if timezone.localdate() == today:
        assert report["again_written"] == 0
    assert report["incremental_tries"] == 10
    assert 0 < report["incremental_p50_ms"] <= report["incremental_p95_ms"]
    # Three back-dated moves, timed and rolled back: the organisation is as it was.
    assert len(report["move_s"]) == 3 and all(s > 0 for s in report["move_s"])
    assert list(Membership.objects.values_list("pk", "rep_id", "team_id", "since", "until")) == memberships
    assert report["full_over_floor"] <= MAX_FULL_OVER_FLOOR
    assert report["naive_over_full"] >= MIN_NAIVE_OVER_FULL
    # The plans of the full recompute's statements, the upsert's among them; rolled back after.
    explained = plans.read_text()
    assert "Insert on kpis_kpisnapshot" in explained
    assert "kpis_activity" in explained and "actual time=" in explained
    assert KpiSnapshot.objects.count() == report["snapshots"]


def test_it_refuses_a_database_other_than_postgresql(monkeypatch):
    from django.db import connection

    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("bench_kpis")
