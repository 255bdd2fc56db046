import time

from django.core.management.base import BaseCommand

from kpis import engine


class Command(BaseCommand):
    help = "Recompute every KPI snapshot now, here, with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument(
            "--full",
            action="store_true",
            help="Rewrite every snapshot, changed or not, and drop those of deleted reps and teams "
            "and of periods outside the data.",
        )

    def handle(self, full=False, **options):
        started = time.monotonic()

        def progress(done, total):
            width = 30
            bar = "#" * (width * done // total) + "-" * (width - width * done // total)
            self.stdout.write(f"\r[{bar}] {done}/{total} period kinds", ending="")
            self.stdout.flush()

        written = engine.recompute_all(full=full, progress=progress)
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(f"{written} snapshots written in {time.monotonic() - started:.1f}s.")
        )
