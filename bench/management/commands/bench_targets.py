import json

from django.core.management.base import BaseCommand, CommandError

from bench import targets
from demo.management.commands.seed_demo import count


class Command(BaseCommand):
    help = (
        "Benchmark targets written in bulk on this database: the reps × months grid of a team of --reps "
        "reps (the service call and the view's POST, new targets and changed ones), a --csv-rows target "
        "CSV import, and --singles targets saved one by one; seconds and statements of each. Writes "
        "nothing: its team and targets are rolled back."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reps", type=count(1), default=300, help="reps in the grid's team")
        parser.add_argument("--csv-rows", type=count(1), default=10_000, help="rows of the CSV")
        parser.add_argument("--singles", type=count(1), default=100, help="targets saved one by one")
        parser.add_argument("--tries", type=count(1), default=3, help="runs of each figure")
        parser.add_argument("--json", dest="json_file", metavar="FILE", help="also write the figures as JSON")

    def handle(self, *, reps, csv_rows, singles, tries, json_file, **options):
        try:
            report = targets.run(
                size=reps, csv_rows=csv_rows, singles=singles, tries=tries, log=self.stdout.write
            )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        width = max(len(f["name"]) for f in report["figures"])
        self.stdout.write(f"\n{'':<{width}}{'best s':>10}{'median s':>10}{'queries':>9}")
        for f in report["figures"]:
            self.stdout.write(
                f"{f['name']:<{width}}{f['best_s']:>10.4f}{f['median_s']:>10.4f}{f['queries']:>9}"
            )
        if json_file:
            with open(json_file, "w") as out:
                json.dump(report, out, indent=2)
            self.stdout.write(f"Written to {json_file}.")
