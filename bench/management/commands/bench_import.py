import csv
import datetime as dt
import io
import os
import random
import time
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from demo.management.commands.seed_demo import count
from kpis.imports import import_table, read_table, suggest_columns
from kpis.models import ImportMapping, Opportunity, OpportunityState, Stage
from kpis.signals import bulk_changes
from teams.models import Rep

HEADER = ["Record ID", "Deal Name", "Amount", "Close Date", "Deal Stage", "Deal owner", "Create Date"]
# HubSpot's default pipeline, mapped to the seed's stages (demo.org.STAGES).
HUBSPOT_STAGES = {
    "Appointment Scheduled": "Prospecting",
    "Qualified To Buy": "Qualification",
    "Presentation Scheduled": "Proposal",
    "Contract Sent": "Negotiation",
    "Closed Won": "Won",
    "Closed Lost": "Lost",
}
PREFIX = "bench-"
MAPPING = "bench: HubSpot deals"


class Command(BaseCommand):
    help = (
        "Benchmark the mapped CSV import (kpis.imports): a HubSpot-style export of N synthetic deals "
        "for the reps of this (seeded) database, imported as an admin, then imported again unchanged; "
        "seconds and rows/s of each, the recompute included (run it without CELERY_BROKER_URL, so "
        "that the recompute runs in-process). It replaces the deals of its earlier runs: run it on "
        "a benchmark database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=count(1), default=100_000, help="deals in the file")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *, rows, seed, **options):
        if settings.CELERY_BROKER_URL:
            raise CommandError("Unset CELERY_BROKER_URL: the recompute is timed in-process.")
        reps = list(Rep.objects.select_related("user").values_list("full_name", flat=True))
        stages = dict(Stage.objects.values_list("name", "pk"))
        if not reps or not set(HUBSPOT_STAGES.values()) <= set(stages):
            raise CommandError("Seed the database first: seed_demo --reps 50 --opportunities 1000 …")
        with bulk_changes(recompute=False):
            Opportunity.objects.filter(external_id__startswith=PREFIX).delete()
        data = hubspot_export(rows, reps, random.Random(seed))
        header = read_table(data[:1000], name="deals.csv").header
        mapping, _ = ImportMapping.objects.update_or_create(
            name=MAPPING,
            defaults={
                "kind": "opportunities",
                "columns": suggest_columns("opportunities", header),
                "values": {"stage": {theirs: stages[ours] for theirs, ours in HUBSPOT_STAGES.items()}},
                "date_format": "%m/%d/%Y",
            },
        )
        admin = get_user_model().objects.filter(is_staff=True, is_active=True).first()
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        self.stdout.write(
            f"{rows:,} deals, {len(data) / 1024 / 1024:.1f} MB, {len(reps)} reps; as {admin}; "
            f"load average {load}."
        )
        for run in ("first import", "re-import, unchanged"):
            states = OpportunityState.objects.count()
            marks = {}

            def progress(step, done=0, total=None, marks=marks):
                marks[step] = time.perf_counter()

            started, cpu = time.perf_counter(), time.process_time()
            result = import_table(
                kind="opportunities",
                table=read_table(data, name="deals.csv"),
                mapping=mapping,
                user=admin,
                progress=progress,
            )
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            written = marks.get("writing", marks.get("checking", started)) - started
            self.stdout.write(
                f"{run}: {seconds:.1f} s, {rows / seconds:,.0f} rows/s ({written:.1f} s to read, check and "
                f"write; {seconds - written:.1f} s to commit and recompute; {cpu:.1f} s of this process's "
                f"CPU, PostgreSQL's apart) — {result.created} created, "
                f"{result.updated} updated, {result.unchanged} unchanged, {result.refused} refused, "
                f"{OpportunityState.objects.count() - states} new history rows."
            )


def hubspot_export(rows: int, reps: list[str], rng: random.Random) -> bytes:
    """A HubSpot-style deals export: US dates, "$1,234.50" amounts, stage and owner names."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    first = dt.date.today() - dt.timedelta(days=365)
    for i in range(rows):
        created = first + dt.timedelta(days=rng.randrange(300))
        stage = rng.choice(list(HUBSPOT_STAGES))
        closed = created + dt.timedelta(days=rng.randrange(1, 60))
        amount = Decimal(rng.randrange(50_000, 5_000_000)) / 100
        writer.writerow(
            [
                f"{PREFIX}{i}",
                f"Deal {i}",
                f"${amount:,.2f}",
                f"{closed:%m/%d/%Y}",
                stage,
                rng.choice(reps),
                f"{created:%m/%d/%Y}",
            ]
        )
    return out.getvalue().encode()
