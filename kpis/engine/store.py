"""Step 4, store: KpiSnapshot rows upserted on the snapshot key, only when their figures changed;
and the reads of stored snapshots that an incremental recompute builds on.

One interface, whatever the database:
- `write_pairs(rows)`: snapshot rows (subject, metric, kind, start, (numerator, denominator)),
  the incremental recompute's few subjects. On PostgreSQL they go to the upsert as arrays (one
  round trip); elsewhere, compared with what is stored and bulk_created.
- `write_components(rows)`: component rows (subject, kind, start, components), the full
  recompute. On PostgreSQL these are copied as they are — one row per subject and period, not
  per metric — and the catalogue's linear forms turn them into metrics inside the database
  (`_metrics_sql`), so the 20 times as many snapshot rows are never built in Python. Elsewhere
  they are evaluated here, in Python, from the same forms.

Figures are rounded to the column's 6 places half away from zero, as PostgreSQL's numeric does
(kpis.engine.evaluate.rounded), so both ways give the same digits; a value is computed from the
rounded figures. CI runs the engine's tests on both databases.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone

from kpis import catalogue
from kpis.fields import FigureState
from kpis.models import KpiPart, KpiSnapshot
from kpis.periods import Period
from teams.models import Rep
from teams.subjects import Scope, Subject
from teams.tree import TeamTree

from .evaluate import OWN_ONLY_KEYS, STATE_SQL, Circumstances, Pair, rounded, state_of
from .read import data_periods, data_range, fact_dates, first_and_last

SnapshotRows = Iterable[tuple[Subject, str, str, dt.date, Pair]]  # subject, metric, kind, start, pair
ComponentRows = Iterable[tuple[Subject, str, dt.date, dict[str, Decimal]]]  # subject, kind, start, comps
BATCH = 20_000


def write_pairs(rows: SnapshotRows, *, force: bool = False) -> int:
    """Upsert the rows whose figures changed (all of them if forced); returns the number of rows
    written."""
    prepared = _prepared(rows, Circumstances.now())
    if connection.vendor == "postgresql":
        columns = [list(column) for column in zip(*prepared, strict=True)]
        if not columns:
            return 0
        with connection.cursor() as cursor:
            return _upsert(cursor, UNNEST_SNAPSHOTS, dict(zip(SNAPSHOT_COLUMNS, columns, strict=True)), force)
    written, batch = 0, []
    for row in prepared:
        batch.append(row)
        if len(batch) == BATCH:
            written += _upsert_portable(batch, force=force)
            batch = []
    return written + (_upsert_portable(batch, force=force) if batch else 0)


def write_components(rows: ComponentRows, *, force: bool = False) -> int:
    """Every metric of each (subject, period) from its components, upserted like write_pairs."""
    if connection.vendor != "postgresql":
        return write_pairs(
            (
                (subject, key, kind, start, pair)
                for subject, kind, start, comps in rows
                for key, pair in catalogue.pairs(comps).items()
            ),
            force=force,
        )
    names = catalogue.COMPONENTS
    now, ends = Circumstances.now(), _Ends()

    def copied():
        for (scope, pk), kind, start, comps in rows:
            open_window = now.lead_window_open(ends[kind, start])
            yield (str(scope), pk, kind, start, open_window, *[comps.get(n, 0) for n in names])

    with connection.cursor() as cursor:
        cursor.execute(CREATE_COMPONENT_STAGE)
        select, params = _metrics_sql()
        params["rep_spend"] = now.rep_spend
        return _copy_and_upsert(cursor, COMPONENT_STAGE, copied(), select, force, params)


class _Ends(dict):
    """Each (period kind, start)'s last day, worked out once per write, not once per row."""

    def __missing__(self, key):
        self[key] = end = Period.from_start(*key).end
        return end


def _prepared(rows: SnapshotRows, now: Circumstances):
    """Snapshot table rows: figures rounded to the column's places, their state, and the value
    from them — or, for a derived metric, the value it came with (none for a figure that does
    not apply)."""
    ends = _Ends()
    for (scope, pk), metric, kind, start, (num, den, *derived) in rows:
        num, den = rounded(num), rounded(den)
        value = derived[0] if derived else catalogue.value_of(num, den)
        state = state_of(metric, scope, den, ends[kind, start], now, defined=value is not None)
        value = None if state == FigureState.NOT_APPLICABLE else rounded(value)
        yield str(scope), pk, metric, kind, start, num, den, value, str(state)


# --- PostgreSQL: one upsert, from arrays or from a temporary table filled by COPY -------------

SNAPSHOT = KpiSnapshot._meta.db_table
FIGURE = "numeric(24, 6)"  # the snapshot columns' type: a cast to it rounds as `rounded` does
SNAPSHOT_COLUMNS = ["scope", "subject", "metric", "kind", "start", "num", "den", "value", "state"]
UNNEST_SNAPSHOTS = """
    SELECT * FROM unnest(
        %(scope)s::varchar[], %(subject)s::bigint[], %(metric)s::varchar[], %(kind)s::varchar[],
        %(start)s::date[], %(num)s::numeric[], %(den)s::numeric[], %(value)s::numeric[],
        %(state)s::varchar[]
    )
"""
COMPONENT_STAGE = "kpi_component_stage"
CREATE_COMPONENT_STAGE = f"""
    CREATE TEMP TABLE IF NOT EXISTS {COMPONENT_STAGE} (
        scope varchar(7), subject_id bigint, period_kind varchar(7), period_start date,
        lead_window_open boolean NOT NULL,
        {", ".join(f"{name} numeric NOT NULL" for name in catalogue.COMPONENTS)}
    ) ON COMMIT DELETE ROWS
"""
UPSERT = f"""
    INSERT INTO {SNAPSHOT}
        (scope, subject_id, metric, period_kind, period_start, numerator, denominator, value, state,
         computed_at)
    SELECT *, %(now)s FROM ({{select}}) AS computed
    ON CONFLICT (scope, subject_id, metric, period_kind, period_start) DO UPDATE SET
        numerator = EXCLUDED.numerator, denominator = EXCLUDED.denominator,
        value = EXCLUDED.value, state = EXCLUDED.state, computed_at = EXCLUDED.computed_at
    WHERE %(force)s OR ({SNAPSHOT}.numerator, {SNAPSHOT}.denominator, {SNAPSHOT}.value, {SNAPSHOT}.state)
        IS DISTINCT FROM (EXCLUDED.numerator, EXCLUDED.denominator, EXCLUDED.value, EXCLUDED.state)
"""


def _metrics_sql() -> tuple[str, dict]:
    """SELECT of snapshot rows from the component stage: each metric's numerator and denominator
    as the catalogue's linear forms of the stage's columns (scales as parameters, read now)."""
    params: dict = {}

    def sql(form: catalogue.Linear | None) -> str:
        if form is None:
            return f"NULL::{FIGURE}"
        terms = []
        for name, scale in form.scales():
            if scale == 1:
                terms.append(f"s.{name}")
            else:
                params[f"scale{len(params)}"] = scale
                terms.append(f"s.{name} * %(scale{len(params) - 1})s")
        return f"({' + '.join(terms)})::{FIGURE}"

    metrics = ",\n".join(
        f"('{m.key}', {sql(m.numerator)}, {sql(m.denominator)}, {DERIVED_SQL.get(m.key, 'NULL::numeric')})"
        for m in catalogue.METRICS
    )
    derived = ", ".join(f"'{m.key}'" for m in catalogue.DERIVED)
    select = f"""
        SELECT scope, subject_id, metric, period_kind, period_start, num, den,
            CASE WHEN state = '{FigureState.NOT_APPLICABLE.value}' THEN NULL
                 WHEN metric IN ({derived}) THEN derived
                 WHEN den IS NULL THEN num WHEN den <> 0 THEN num / den END,
            state
        FROM (
            SELECT s.scope, s.subject_id, m.metric, s.period_kind, s.period_start, m.num, m.den,
                m.derived, {STATE_SQL} AS state
            FROM {COMPONENT_STAGE} AS s
            CROSS JOIN LATERAL (VALUES {metrics}) AS m (metric, num, den, derived)
        ) AS evaluated
    """
    return select, params


# catalogue.velocity over the stage's components; the dividend's 20 places keep the quotient's
# digits well past the column's 6 before it is rounded (as Python's 28 digits do).
DERIVED_SQL = {
    "sales_velocity": """CASE WHEN s.won_count > 0 AND s.cycle_count > 0 AND s.cycle_days > 0 THEN
        s.open_at_start * s.won_amount * s.cycle_count * 1.00000000000000000000
        / ((s.won_count + s.lost_count) * s.cycle_days) END""",
}


def analyze_snapshots() -> None:
    """Fresh planner statistics after rewriting the table: pages read it next, and autovacuum
    (if on at all) comes later."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {SNAPSHOT}")


def _copy_and_upsert(cursor, stage: str, rows, select: str, force: bool, params: dict) -> int:
    """`rows` may be a generator, but one that runs no query: the connection is busy copying
    while it is consumed."""
    with cursor.copy(f"COPY {stage} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    written = _upsert(cursor, select, params, force)
    cursor.execute(f"TRUNCATE {stage}")
    return written


def _upsert(cursor, select: str, params: dict, force: bool) -> int:
    cursor.execute(UPSERT.format(select=select), {**params, "now": timezone.now(), "force": force})
    return cursor.rowcount


# --- elsewhere (SQLite): compare with what is stored, then bulk_create in batches -------------


def subjects_q(subjects) -> Q:
    """Snapshots of these (scope, id) subjects: one IN list per scope."""
    by_scope = defaultdict(set)
    for scope, pk in subjects:
        by_scope[scope].add(pk)
    which = Q()
    for scope, ids in by_scope.items():
        which |= Q(scope=scope, subject_id__in=ids)
    return which


def _upsert_portable(rows, *, force: bool) -> int:
    existing = {} if force else _existing(rows)
    now = timezone.now()
    changed = [
        KpiSnapshot(
            scope=scope,
            subject_id=pk,
            metric=metric,
            period_kind=kind,
            period_start=start,
            numerator=num,
            denominator=den,
            value=value,
            state=state,
            computed_at=now,
        )
        for scope, pk, metric, kind, start, num, den, value, state in rows
        if existing.get((scope, pk, metric, kind, start)) != (num, den, value, state)
    ]
    if changed:
        KpiSnapshot.objects.bulk_create(
            changed,
            batch_size=5000,
            update_conflicts=True,
            unique_fields=["scope", "subject_id", "metric", "period_kind", "period_start"],
            update_fields=["numerator", "denominator", "value", "state", "computed_at"],
        )
    return len(changed)


KEY_FIELDS = ["scope", "subject_id", "metric", "period_kind", "period_start"]


def _existing(rows) -> dict:
    kinds = {row[3] for row in rows}
    starts = {row[4] for row in rows}
    found = KpiSnapshot.objects.filter(
        subjects_q({(row[0], row[1]) for row in rows}), period_kind__in=kinds, period_start__in=starts
    ).values_list(*KEY_FIELDS, "numerator", "denominator", "value", "state")
    return {(s, pk, m, k, start): tuple(figures) for s, pk, m, k, start, *figures in found}


# --- reads of what is stored: the incremental recompute's starting point ----------------------


def stored_pairs(subjects, periods_by_kind) -> dict:
    """{(subject, metric, kind, start): (numerator, denominator)} as stored now."""
    starts = {p.start for periods in periods_by_kind.values() for p in periods}
    found = KpiSnapshot.objects.filter(subjects_q(subjects), period_start__in=starts).values_list(
        "scope", "subject_id", "metric", "period_kind", "period_start", "numerator", "denominator"
    )
    return {(Subject(s, pk), m, k, start): (num, den) for s, pk, m, k, start, num, den in found}


def _in_periods(periods_by_kind) -> Q | None:
    """The rows of these periods; None when there are none."""
    found = Q()
    for kind, periods in periods_by_kind.items():
        if periods:
            found |= Q(period_kind=kind, period_start__in=[p.start for p in periods])
    return found or None


def reps_pairs(periods_by_kind) -> dict:
    """{(kind, start): {metric: pair}} summed over every rep's stored snapshots: with the facts
    of no rep, the company's figures (whose reps were in which team does not matter to it)."""
    children = Q(scope=Scope.REP)
    in_periods = _in_periods(periods_by_kind)
    if in_periods is None:
        return {}
    rows = (
        KpiSnapshot.objects.filter(children, in_periods)
        .exclude(metric__in=OWN_ONLY_KEYS)  # the forecast figures: per subject, never summed
        .values("period_kind", "period_start", "metric")
        .annotate(num=Sum("numerator"), den=Sum("denominator"))
        .order_by()
    )
    sums: dict = defaultdict(dict)
    for row in rows:
        sums[row["period_kind"], row["period_start"]][row["metric"]] = (row["num"], row["den"])
    return sums


# --- parts: what each stint of a rep was credited, in the periods a move splits -----------------

PartRows = Iterable[
    tuple[int, dt.date | None, str, str, dt.date, Pair]
]  # rep, stint since, metric, kind, start


def write_parts(rows: PartRows, *, reps=None, periods_by_kind=None) -> int:
    """Replace the stored parts of `reps` (None: every rep) in these periods (None: all) with
    `rows`; returns the number written."""
    stored = KpiPart.objects.all()
    if periods_by_kind is not None:
        in_periods = _in_periods(periods_by_kind)
        stored = stored.filter(in_periods) if in_periods is not None else stored.none()
    if reps is not None:
        stored = stored.filter(rep_id__in=reps)
    stored.delete()
    parts = [
        (rep, since or KpiPart.FROM_THE_START, metric, kind, start, rounded(num), rounded(den))
        for rep, since, metric, kind, start, (num, den, *_) in rows
    ]
    if connection.vendor == "postgresql":  # COPY: a full recompute writes tens of thousands
        with connection.cursor() as cursor, cursor.copy(COPY_PARTS) as copy:
            for part in parts:
                copy.write_row(part)
        return len(parts)
    KpiPart.objects.bulk_create([KpiPart(**dict(zip(PART_FIELDS, part, strict=True))) for part in parts])
    return len(parts)


PART_FIELDS = ["rep_id", "stint_since", "metric", "period_kind", "period_start", "numerator", "denominator"]
COPY_PARTS = f"COPY {KpiPart._meta.db_table} ({', '.join(PART_FIELDS)}) FROM STDIN"


def stored_parts(rep_id: int, periods_by_kind) -> dict:
    """{(stint since, metric, kind, start): (numerator, denominator)} of one rep, as stored now."""
    in_periods = _in_periods(periods_by_kind)
    if in_periods is None:
        return {}
    found = KpiPart.objects.filter(in_periods, rep_id=rep_id).values_list(
        "stint_since", "metric", "period_kind", "period_start", "numerator", "denominator"
    )
    return {
        (None if since == KpiPart.FROM_THE_START else since, metric, kind, start): (num, den)
        for since, metric, kind, start, num, den in found
    }


def spans() -> tuple[tuple[dt.date, dt.date] | None, tuple[dt.date | None, dt.date | None], bool]:
    """In one query: the span of the facts worth computing, the first and last month with
    snapshots, and whether the stored years began in another month than FISCAL_YEAR_START_MONTH
    (the setting changed since they were written)."""
    months = KpiSnapshot.objects.filter(period_kind="month")
    years = KpiSnapshot.objects.filter(period_kind="year")
    *facts, stored, (first_year, last_year) = first_and_last(
        [*fact_dates(), (months, "period_start"), (years, "period_start")]
    )
    fiscal = settings.FISCAL_YEAR_START_MONTH
    other_fiscal_year = any(day is not None and day.month != fiscal for day in (first_year, last_year))
    return data_range(facts), stored, other_fiscal_year


def delete_stale_snapshots() -> int:
    """Snapshots of deleted reps or teams, or of periods outside the data, go."""
    tree = TeamTree.load()
    keep = (
        Q(scope=Scope.COMPANY)
        | Q(scope=Scope.TEAM, subject_id__in=list(tree.parent))
        | Q(scope=Scope.REP, subject_id__in=Rep.objects.values("pk"))
    )
    in_range = Q()
    for kind, periods in data_periods().items():
        in_range |= Q(period_kind=kind, period_start__in=[p.start for p in periods])
    deleted, _ = KpiSnapshot.objects.exclude(keep & in_range).delete()
    return deleted
