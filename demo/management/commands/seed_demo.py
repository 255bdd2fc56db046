import argparse
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from demo.services import DemoDatabaseNotEmpty, DemoSize, demo_seed


def count(minimum: int, maximum: int | None = None):
    def parse(value: str) -> int:
        number = int(value)
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        if maximum is not None and number > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}")
        return number

    return parse


# The demo's months end with this one; a century back stays within the years salesperf works in.
MAX_MONTHS = 100 * 12


class Command(BaseCommand):
    help = (
        "Fill an empty database with deterministic demo data for every model: teams, reps, facts, "
        "forecasts and targets for the months up to this one, and the logins admin, manager and rep. "
        "Demo data only: the printed passwords follow from the seed."
    )

    def add_arguments(self, parser):
        defaults = DemoSize()
        parser.add_argument("--reps", type=count(1), default=defaults.reps)
        parser.add_argument("--opportunities", type=count(0), default=defaults.opportunities)
        parser.add_argument("--activities", type=count(0), default=defaults.activities)
        parser.add_argument(
            "--months", type=count(1, MAX_MONTHS), default=defaults.months, help="ending with this month"
        )
        parser.add_argument("--seed", type=int, default=42, help="the same seed and sizes give the same data")
        parser.add_argument(
            "--flush",
            action="store_true",
            help="first delete every fact, target, snapshot, team and rep, their users and the demo logins",
        )

    def handle(self, *, reps, opportunities, activities, months, seed, flush, **options):
        self.printed = {}
        started = time.monotonic()
        size = DemoSize(reps=reps, opportunities=opportunities, activities=activities, months=months)
        try:
            result = demo_seed(
                size=size, seed=seed, today=timezone.localdate(), flush=flush, progress=self.progress
            )
        except DemoDatabaseNotEmpty as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Seeded in {time.monotonic() - started:.1f} s.")
        for move in result.moves:
            self.stdout.write(str(move))

        call_command("recompute_kpis", stdout=self.stdout, stderr=self.stderr)

        self.stdout.write(self.style.SUCCESS("Demo logins (the password follows from --seed):"))
        for login in result.logins:
            self.stdout.write(f"  {login.username:<8} {login.password}   {login.role}")

    def progress(self, label: str, done: int, total: int | None) -> None:
        """One line per model at every tenth of its rows, and once when it is complete."""
        if total is None:
            return
        tenth = 10 if total == 0 else done * 10 // total
        if self.printed.get(label, -1) < tenth:
            self.printed[label] = tenth
            self.stdout.write(f"  {label:<22} {done:>10,} / {total:,}")
