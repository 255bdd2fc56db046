from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from kpis import catalogue
from kpis.models import KpiSnapshot
from kpis.periods import KINDS, Period
from salesperf import csv
from teams.models import Rep, Team


class Command(BaseCommand):
    help = (
        "Print KPI snapshots as CSV: scope,name,metric,period,value (empty where undefined or not "
        "applicable); --states adds a sixth column, the figure's state."
    )

    def add_arguments(self, parser):
        parser.add_argument("--period", choices=KINDS, help="Only this period kind (default: all).")
        parser.add_argument("--metric", nargs="+", metavar="KEY", help="Only these metrics.")
        parser.add_argument("--user", metavar="USERNAME", help="Only the rows this user may see.")
        parser.add_argument(
            "--states",
            action="store_true",
            help="Add a `state` column: final, provisional, undefined or not_applicable.",
        )

    def handle(self, period=None, metric=None, user=None, states=False, **options):
        unknown = [key for key in metric or [] if key not in catalogue.BY_KEY]
        if unknown:
            raise CommandError(
                f"Unknown metric(s): {', '.join(unknown)}. Known: {', '.join(catalogue.KEYS)}."
            )
        rows = KpiSnapshot.objects.all()  # without --user: whoever runs manage.py has the database
        if user is not None:
            found = get_user_model().objects.filter(username=user).first()
            if found is None:
                raise CommandError(f"No user named '{user}'.")
            rows = KpiSnapshot.objects.visible_to(found)
        if period:
            rows = rows.filter(period_kind=period)
        if metric:
            rows = rows.filter(metric__in=metric)
        names = {
            "rep": dict(Rep.objects.values_list("pk", "full_name")),
            "team": dict(Team.objects.values_list("pk", "name")),
            "company": {0: "all"},
        }
        out = csv.writer(self.stdout, lineterminator="\n")
        out.writerow(["scope", "name", "metric", "period", "value", *(["state"] if states else [])])
        rows = rows.order_by("period_kind", "period_start", "scope", "subject_id", "metric")
        stale = 0
        for scope, pk, key, kind, start, value, state in rows.values_list(
            "scope", "subject_id", "metric", "period_kind", "period_start", "value", "state"
        ).iterator(chunk_size=5000):
            name = names[scope].get(pk)
            if name is None:  # a rep or team deleted since the last recompute
                continue
            try:
                label = Period.from_start(kind, start).label
            except ValueError:  # a year of another FISCAL_YEAR_START_MONTH, until the next recompute
                stale += 1
                continue
            line = [scope, name, key, label, "" if value is None else f"{value:.6f}"]
            out.writerow([*line, state] if states else line)
        if stale:
            self.stderr.write(
                f"Left out {stale} snapshots of periods that FISCAL_YEAR_START_MONTH no longer makes: "
                "run `manage.py recompute_kpis` to rebuild them."
            )
