import json

from django.core.management.base import BaseCommand, CommandError

from bench.explain import explain_full, write_plans
from bench.recompute import run
from demo.management.commands.seed_demo import count


class Command(BaseCommand):
    help = (
        "Benchmark the KPI recompute on this (PostgreSQL) database's data: raw GROUP BY floor, full "
        "recompute, naive per-rep ORM loop, incremental recompute, peak memory, and their ratios. "
        "It rewrites every snapshot and closes some open deals: run it on a benchmark database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--naive-reps", type=count(1), default=20, help="reps in the naive loop's sample")
        parser.add_argument("--incremental-tries", type=count(1), default=50)
        parser.add_argument(
            "--move-tries", type=count(1), default=3, help="back-dated rep moves to time (each rolled back)"
        )
        parser.add_argument(
            "--seed", type=int, default=7, help="picks the sample reps and the deals to close"
        )
        parser.add_argument(
            "--workers",
            type=count(1),
            nargs="*",
            default=[],
            help="also time the nightly fan-out on this many worker processes, e.g. --workers 1 2",
        )
        parser.add_argument("--json", dest="json_file", metavar="FILE", help="also write the figures as JSON")
        parser.add_argument(
            "--explain",
            dest="explain_file",
            metavar="FILE",
            help="then write EXPLAIN (ANALYZE, BUFFERS) of every statement of a full recompute (rolled back)",
        )
        parser.add_argument(
            "--max-full-over-floor", type=float, help="fail if full recompute / floor is above this"
        )
        parser.add_argument("--min-naive-over-full", type=float, help="fail if naive / full is below this")

    def handle(
        self, *, naive_reps, incremental_tries, move_tries, seed, workers, json_file, explain_file, **options
    ):
        try:
            report = run(
                naive_sample=naive_reps,
                incremental_tries=incremental_tries,
                move_tries=move_tries,
                seed=seed,
                workers=workers,
                log=self.stdout.write,
            )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        rows = [
            ("floor: raw GROUP BY rep × month", f"{report.floor_s:.3f} s"),
            ("full recompute", f"{report.full_s:.3f} s"),
            (f"again, unforced ({report.again_written:,} rows written)", f"{report.again_s:.3f} s"),
            (
                f"naive loop, {report.naive_sample_reps} reps scaled to {report.reps}",
                f"{report.naive_s:.1f} s",
            ),
            ("naive values differing from the engine's", str(report.naive_mismatches)),
            (f"incremental p50 ({report.incremental_tries} tries)", f"{report.incremental_p50_ms:.1f} ms"),
            ("incremental p95", f"{report.incremental_p95_ms:.1f} ms"),
            *(
                (f"back-dated move from {report.move_since}, try {n}", f"{s:.2f} s")
                for n, s in enumerate(report.move_s, 1)
            ),
            ("peak RSS during full recompute", f"{report.peak_rss_mb:.0f} MB"),
            *((f"nightly fan-out on {n} worker(s)", f"{s:.2f} s") for n, s in report.fanout_s.items()),
            ("full / floor", f"{report.full_over_floor:.2f}×"),
            ("naive / full", f"{report.naive_over_full:.1f}×"),
        ]
        width = max(len(name) for name, _ in rows)
        self.stdout.write("")
        for name, value in rows:
            self.stdout.write(f"{name:<{width}}  {value:>12}")
        if json_file:
            with open(json_file, "w") as out:
                json.dump(report.as_dict(), out, indent=2)
        if explain_file:
            plans = explain_full()
            with open(explain_file, "w") as out:
                write_plans(plans, out)
            self.stdout.write(f"{len(plans)} plans written to {explain_file}")
        failures = self.failures(report, **options)
        if failures:
            raise CommandError("; ".join(failures))

    @staticmethod
    def failures(report, *, max_full_over_floor=None, min_naive_over_full=None, **_) -> list[str]:
        out = []
        if report.naive_mismatches:
            out.append(f"{report.naive_mismatches} naive figures differ from the engine's snapshots")
        if max_full_over_floor is not None and report.full_over_floor > max_full_over_floor:
            out.append(f"full / floor is {report.full_over_floor:.2f}×, above {max_full_over_floor}×")
        if min_naive_over_full is not None and report.naive_over_full < min_naive_over_full:
            out.append(f"naive / full is {report.naive_over_full:.1f}×, below {min_naive_over_full}×")
        return out
