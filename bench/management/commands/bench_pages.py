import json

from django.core.management.base import BaseCommand, CommandError

from bench import pages
from demo.management.commands.seed_demo import count


class Command(BaseCommand):
    help = (
        "Benchmark the pages and the API for a team of about --reps reps on this database: a rep's "
        "scorecard, the team's dashboard, forecast page and pipeline waterfall, the API scorecard "
        "and snapshot list, next to a trivial view (/healthz), each under --concurrency wrk clients "
        "for --duration seconds against gunicorn on loopback. Read-only: writes nothing to the "
        "database. Needs wrk (apt-get install wrk)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--duration", type=count(1), default=10, help="seconds per request (default 10)")
        parser.add_argument("--concurrency", type=count(1), default=8, help="clients at once (default 8)")
        parser.add_argument("--workers", type=count(1), default=2, help="gunicorn workers (default 2)")
        parser.add_argument("--reps", type=count(1), default=100, help="team size to look for (default 100)")
        parser.add_argument("--team", type=int, help="this team instead")
        parser.add_argument("--json", dest="json_file", metavar="FILE", help="also write the figures as JSON")

    def handle(self, *, duration, concurrency, workers, reps, team, json_file, **options):
        try:
            report = pages.run(
                seconds=duration,
                concurrency=concurrency,
                workers=workers,
                size=reps,
                team_id=team,
                log=self.stdout.write,
            )
        except RuntimeError as exc:  # WrkMissing too
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"\n{'':<26}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}")
        for r in report["results"]:
            self.stdout.write(
                f"{r['name']:<26}{r['requests']:>9}{r['rps']:>9}{r['p50_ms']:>9}{r['p95_ms']:>9}{r['errors']:>8}"
            )
        if json_file:
            with open(json_file, "w") as out:
                json.dump(report, out, indent=2)
            self.stdout.write(f"Written to {json_file}.")
        failed = [r["name"] for r in report["results"] if r["errors"]]
        if failed:
            raise CommandError(f"Errors in: {', '.join(failed)}.")
