"""Management commands on bad arguments: a CommandError with a clear message and nothing
written; from the shell, a non-zero exit and the message on stderr, never a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kpis.models import KpiSnapshot

from .helpers import CRM, FACTS, TARGETS, assert_unchanged

pytestmark = pytest.mark.django_db

MANAGE = Path(__file__).resolve().parents[2] / "manage.py"
EVERYTHING = (*CRM, *FACTS, *TARGETS, KpiSnapshot)

# (arguments, what the CommandError says); {tmp} is a fresh empty directory
BAD_ARGUMENTS = [
    (["export_kpis", "--period", "week"], "argument --period: invalid choice: 'week'"),
    (["export_kpis", "--metric", "revenue_won", "profit"], "Unknown metric(s): profit. Known: revenue_won,"),
    (["export_kpis", "--user", "nobody"], "No user named 'nobody'."),
    (["export_targets", "--user", "nobody"], "No user named 'nobody'."),
    (["import_targets", "{tmp}/plan.csv"], "the following arguments are required: --user"),
    (["import_targets", "{tmp}/plan.csv", "--user", "nobody"], "No user named 'nobody'."),
    (
        ["import_targets", "{tmp}/plan.csv", "--user", "admin"],
        "Cannot read {tmp}/plan.csv: No such file or directory.",
    ),
    (["import_targets", "{tmp}", "--user", "admin"], "Cannot read {tmp}: Is a directory."),
    (["import_crm", "{tmp}/nowhere"], "{tmp}/nowhere: no such directory."),
    (["import_crm", "{tmp}"], "{tmp}/sales_teams.csv: file not found."),
    (["seed_demo", "--reps", "-1"], "argument --reps: must be at least 1"),
    (["seed_demo", "--reps", "many"], "argument --reps: invalid parse value: 'many'"),
    (["seed_demo", "--opportunities", "-5"], "argument --opportunities: must be at least 0"),
    (["seed_demo", "--months", "0"], "argument --months: must be at least 1"),
    (["seed_demo", "--months", "100000"], "argument --months: must be at most 1200"),
    (["seed_demo"], "The database already has teams or reps."),
    (["recompute_kpis", "--fast"], "unrecognized arguments: --fast"),
]


@pytest.mark.parametrize(("args", "message"), BAD_ARGUMENTS, ids=[" ".join(a) for a, _ in BAD_ARGUMENTS])
def test_a_bad_argument_is_a_command_error_and_writes_nothing(org, alice_q1, tmp_path, args, message):
    args = [a.format(tmp=tmp_path) for a in args]
    with assert_unchanged(*EVERYTHING), pytest.raises(CommandError) as error:
        call_command(*args)
    assert message.format(tmp=tmp_path) in str(error.value)


def manage(tmp_path, *args):
    """`python manage.py ARGS` in a child process, on a database file that does not exist: the
    failures below happen before any query (a query would fail differently)."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'untouched.sqlite3'}",
        "CELERY_BROKER_URL": "",
        "REDIS_URL": "",
    }
    return subprocess.run(
        [sys.executable, str(MANAGE), *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import_crm", "{tmp}/nowhere"], "CommandError: {tmp}/nowhere: no such directory."),
        (["export_kpis", "--metric", "profit"], "CommandError: Unknown metric(s): profit. Known: "),
    ],
)
def test_from_the_shell_an_error_exits_1_with_one_line_and_no_traceback(tmp_path, args, message):
    done = manage(tmp_path, *[a.format(tmp=tmp_path) for a in args])
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith(message.format(tmp=tmp_path))
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (tmp_path / "untouched.sqlite3").exists()


def test_from_the_shell_a_usage_error_exits_2_with_the_usage_and_the_reason(tmp_path):
    # argparse's convention, kept by Django: the usage line, then "error: …".
    done = manage(tmp_path, "seed_demo", "--months", "100000")
    assert done.returncode == 2
    assert done.stderr.splitlines()[0].startswith("usage: manage.py seed_demo")
    assert (
        done.stderr.splitlines()[-1] == "manage.py seed_demo: error: argument --months: must be at most 1200"
    )
    assert "Traceback" not in done.stderr
