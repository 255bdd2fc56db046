"""`manage.py bench_pages` on tiny demo data: it finds its subjects, measures every request
without an error, reports them as a table and JSON, and writes nothing to the database."""

import json

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token

from demo.services import DemoSize, demo_seed
from kpis import engine
from kpis.models import KpiSnapshot
from teams.models import Rep
from teams.tree import TeamTree

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NAMES = [
    "trivial view (/healthz)",
    "rep's scorecard",
    "team dashboard",
    "forecast page",
    "API scorecard",
    "API snapshot list",
    "waterfall",
]


def database_state():
    return (
        Session.objects.count(),
        Token.objects.count(),
        KpiSnapshot.objects.count(),
        list(KpiSnapshot.objects.order_by("-computed_at").values_list("computed_at", flat=True)[:1]),
    )


def test_bench_pages_measures_each_request_and_writes_nothing(wrk_installed, tmp_path, capsys):
    demo_seed(
        size=DemoSize(reps=6, opportunities=300, activities=600, months=3), seed=3, today=timezone.localdate()
    )
    engine.recompute_all()
    before = database_state()

    out = tmp_path / "pages.json"
    call_command("bench_pages", duration=1, concurrency=2, reps=3, json=str(out))

    report = json.loads(out.read_text())
    assert [r["name"] for r in report["results"]] == NAMES
    assert all(r["requests"] > 0 and r["errors"] == 0 for r in report["results"]), report["results"]
    assert report["concurrency"] == 2
    # The team whose subtree holds the number of reps nearest --reps.
    tree = TeamTree.load()
    reps = {t: Rep.objects.filter(team_id__in=tree.subtree_ids([t])).count() for t in tree.parent}
    assert report["team"]["reps"] == reps[report["team"]["id"]]
    assert abs(report["team"]["reps"] - 3) == min(abs(n - 3) for n in reps.values())
    printed = capsys.readouterr().out
    assert all(name in printed for name in NAMES)
    assert database_state() == before
