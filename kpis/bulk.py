"""Bulk upsert by external id: `POST /api/v1/opportunities/bulk/` and `/customers/bulk/`, and the
mapped CSV import (kpis.imports), which writes through the same three steps.

Every row goes through the resource's own serializer — the single write's fields, messages,
visibility of related ids and the model's full_clean — with what would cost a query per row done
once for the batch instead (`bulk_check`):
- the related ids the rows name are looked up among those the writer may use, one query a field;
- the stored rows are loaded by external_id in one query; one the writer may not see is an error
  for that row, never an update;
- the model's unique check (external_id: matched here) and its check constraints, which Django
  runs as one query each per row, are evaluated in Python (CHECKS) with Django's own messages.
`bulk_plan` says what saving the valid rows does (new, changed, unchanged: a row that changes
nothing is not written) and `bulk_save` writes it — one INSERT per batch, an upsert on external_id
for the changed rows — inside `bulk_changes` (one recompute on commit, not one per row) and
`recorded_by` (the deal history names the writer). The API is all or nothing (`bulk_upsert`); an
import may take the valid rows of a file with errors.
"""

from dataclasses import asdict, dataclass

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import CheckConstraint
from django.db.models.expressions import DatabaseDefault
from rest_framework import serializers
from rest_framework.settings import api_settings

from salesperf.api import CONFLICTING_WRITE

from .deal_history import recorded_by
from .models import Opportunity
from .signals import bulk_changes

BULK_MAX_ROWS = 10_000
WRITE_BATCH = 1_000
MAX_PK = 2**63 - 1

# The models' check constraints as Python predicates over an unsaved instance: a NULL passes, as
# in the database's CHECK. A constraint missing here is still checked, by Django, a query a row.
CHECKS = {
    "opportunity_amount_not_negative": lambda o: o.amount is None or o.amount >= 0,
    "opportunity_closed_after_created": lambda o: (
        o.created_on is None or o.closed_on is None or o.closed_on >= o.created_on
    ),
    "customer_churned_after_acquired": lambda c: (
        c.churned_on is None or (c.acquired_on is not None and c.churned_on >= c.acquired_on)
    ),
    "lead_converted_after_created": lambda d: (
        d.converted_on is None or d.created_on is None or d.converted_on >= d.created_on
    ),
    "nps_score_0_10": lambda r: r.score is None or 0 <= r.score <= 10,
    "spend_amount_not_negative": lambda s: s.amount is None or s.amount >= 0,
    "spend_rep_or_team": lambda s: s.rep_id is None or s.team_id is None,
    # A NULL scope makes every `scope = …` NULL: the CHECK then passes unless both are named.
    "forecast_subject_matches_scope": lambda f: (
        (f.rep_id is None or f.team_id is None)
        if f.scope is None
        else {"rep": (True, False), "team": (False, True), "company": (False, False)}.get(f.scope)
        == (f.rep_id is not None, f.team_id is not None)
    ),
    "forecast_amount_not_negative": lambda f: f.amount is None or f.amount >= 0,
}


@dataclass(frozen=True)
class RowError:
    index: int | None  # None: the batch as a whole
    external_id: str | None
    field: str
    message: str


class BulkRejected(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors

    def as_response(self) -> dict:
        return {"errors": [asdict(error) for error in self.errors]}


@transaction.atomic
def bulk_upsert(*, serializer_class, rows, request) -> dict:
    """Creates or updates a row of `serializer_class`'s model per item of `rows`, matched on
    external_id, as `request.user`; {"created": n, "updated": m}, or BulkRejected and nothing
    written."""
    batch_error = _batch_error(rows)
    if batch_error:
        raise BulkRejected([RowError(None, None, api_settings.NON_FIELD_ERRORS_KEY, batch_error)])
    checked = bulk_check(serializer_class=serializer_class, rows=rows, request=request)
    if checked.errors:
        raise BulkRejected(checked.errors)
    plan = bulk_plan(checked=checked)
    bulk_save(plan=plan, user=request.user)
    return {"created": len(plan.new), "updated": len(plan.changed) + len(plan.unchanged)}


@dataclass
class Checked:
    """Rows checked by their serializer: the valid ones (index, the stored row or None, the
    validated fields, the instance they were checked as) and the errors of the others."""

    model: type
    child: serializers.Serializer
    valid: list[tuple[int, object, dict, object]]
    errors: list[RowError]


def bulk_check(*, serializer_class, rows: list[dict], request, progress=None) -> Checked:
    """Every row through `serializer_class` as `request.user`, writing nothing. The mapped CSV
    import (kpis.imports) takes the valid rows of a file that has errors; the API refuses it."""
    child = _row_serializer(serializer_class, rows, request)
    model = child.Meta.model
    keys = [_key(row) for row in rows]
    existing = {o.external_id: o for o in model.objects.filter(external_id__in={k for k in keys if k})}
    visible = set(
        model.objects.visible_to(request.user)
        .filter(pk__in=[o.pk for o in existing.values()])
        .values_list("pk", flat=True)
    )
    valid, errors, first_row = [], [], {}
    for index, (row, key) in enumerate(zip(rows, keys, strict=True)):
        if progress and index % WRITE_BATCH == 0:
            progress("checking", index, len(rows))
        instance = existing.get(key)
        if instance is not None and instance.pk not in visible:
            errors.append(
                RowError(
                    index, key, "external_id", f"No such {model._meta.verbose_name} among those you may see."
                )
            )
            continue
        if key in first_row:
            errors.append(
                RowError(
                    index,
                    key,
                    "external_id",
                    f"Also in row {first_row[key]}: give each external id once a batch.",
                )
            )
            continue
        if key:
            first_row[key] = index
        child.instance, child.cleaned = instance, None
        try:
            attrs = child.run_validation(row)
            valid.append((index, instance, attrs, child.cleaned))
        except serializers.ValidationError as exc:
            errors += [RowError(index, key, field, str(message)) for field, message in _messages(exc.detail)]
    return Checked(model, child, valid, errors)


def _batch_error(rows) -> str | None:
    if not isinstance(rows, list):
        return "Send a JSON list of rows."
    if len(rows) > BULK_MAX_ROWS:
        return f"At most {BULK_MAX_ROWS:,} rows a request; this one has {len(rows):,}: send it in batches."
    return None


def _key(row) -> str | None:
    """The row's external id as its CharField will read it (an integer is taken as text)."""
    value = row.get("external_id") if isinstance(row, dict) else None
    if isinstance(value, bool) or not isinstance(value, str | int) or "\x00" in str(value):
        return None  # not looked up (PostgreSQL cannot compare text with a NUL): the row's error
    return str(value).strip() or None


def _row_serializer(serializer_class, rows, request):
    """One serializer for every row, its related fields looking ids up in rows loaded once."""
    external_id = serializers.CharField(max_length=100)  # required here: rows are matched on it
    bulk_class = type(
        f"Bulk{serializer_class.__name__}", (BatchChecks, serializer_class), {"external_id": external_id}
    )
    child = bulk_class(context={"request": request})
    for name, field in child.fields.items():
        if isinstance(field, serializers.PrimaryKeyRelatedField) and not field.read_only:
            ids = {_pk(row.get(name)) for row in rows if isinstance(row, dict)} - {None}
            field.get_queryset = Loaded(field.get_queryset(), ids).as_queryset
    return child


def _pk(value) -> int | None:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return pk if not isinstance(value, bool) and 0 < pk <= MAX_PK else None


class Loaded:
    """Stands in for a related field's queryset: `get(pk=…)` among the rows of `queryset` (the
    field's own: what the writer may use) with the given ids, read in one query."""

    def __init__(self, queryset, ids):
        self.model = queryset.model
        self.rows = {row.pk: row for row in queryset.filter(pk__in=ids)}

    def as_queryset(self):
        return self

    def get(self, pk):
        try:
            return self.rows[int(pk)]  # int() raises as the database lookup would for a non-id
        except KeyError:
            raise self.model.DoesNotExist from None


class BatchChecks:
    """A row serializer's full_clean without its queries: related rows were loaded for the batch,
    external_id is matched by the batch, and the check constraints are evaluated in Python (CHECKS)."""

    def clean_instance(self, instance):
        self.cleaned = instance  # a new row is saved as the instance checked (bulk_plan)
        errors = {}
        # A related row named is one loaded from those the writer may use (Loaded), or the stored
        # row's own: it exists, and Django's check of that is a query a row.
        related = {
            f.name for f in instance._meta.concrete_fields if f.is_relation and getattr(instance, f.attname)
        }
        try:
            instance.full_clean(exclude=related, validate_unique=False, validate_constraints=False)
        except DjangoValidationError as e:
            errors = e.update_error_dict(errors)
        failed = set(errors) - {NON_FIELD_ERRORS}  # as full_clean: no constraint over a bad field
        for constraint in instance._meta.constraints:
            if isinstance(constraint, CheckConstraint) and constraint.name in CHECKS:
                if constraint.condition.referenced_base_fields & failed or CHECKS[constraint.name](instance):
                    continue
                errors.setdefault(NON_FIELD_ERRORS, []).append(constraint.get_violation_error_message())
            else:
                try:
                    constraint.validate(type(instance), instance, exclude=failed)
                except DjangoValidationError as e:
                    errors = e.update_error_dict(errors)
        if errors:
            raise DjangoValidationError(errors)


def _messages(detail, prefix=""):
    """(field, message) pairs from a serializer's error detail."""
    if isinstance(detail, dict):
        for field, inner in detail.items():
            yield from _messages(inner, f"{prefix}{field}")
    elif isinstance(detail, list):
        for inner in detail:
            yield from _messages(inner, prefix)
    else:
        yield prefix or api_settings.NON_FIELD_ERRORS_KEY, str(detail)


@dataclass
class Plan:
    """What saving checked rows does: new rows, stored rows that change (both as instances to
    write, by row index) and stored rows that would not change (not written)."""

    model: type
    fields: list[str]  # what an update writes: the serializer's writable model fields
    new: list[tuple[int, object]]
    changed: list[tuple[int, object]]
    unchanged: list[int]


def bulk_plan(*, checked: Checked) -> Plan:
    model, child = checked.model, checked.child
    fields = [
        f.name
        for f in model._meta.concrete_fields
        if f.name in child.fields and not child.fields[f.name].read_only and not f.primary_key
    ]
    plan = Plan(model, fields, [], [], [])
    for index, instance, attrs, cleaned in checked.valid:
        if instance is None:
            # The instance its model's checks ran on, or (a serializer that runs none) the fields.
            plan.new.append((index, _as_saved(cleaned if cleaned is not None else model(**attrs))))
            continue
        before = [getattr(instance, model._meta.get_field(f).attname) for f in fields]
        for name, value in attrs.items():
            setattr(instance, name, value)
        _as_saved(instance)
        if before != [getattr(instance, model._meta.get_field(f).attname) for f in fields]:
            plan.changed.append((index, instance))
        else:
            plan.unchanged.append(index)
    return plan


def bulk_save(*, plan: Plan, user, recompute: bool = True, progress=None) -> None:
    """Writes a plan's new and changed rows as `user` (deal history), with one recompute on commit
    unless told not to; BulkRejected when someone else wrote one of its external ids meanwhile."""
    new, changed = [i for _, i in plan.new], [i for _, i in plan.changed]
    if not (new or changed):
        return
    total, done = len(new) + len(changed), 0
    try:
        with recorded_by(user), bulk_changes(recompute=recompute), transaction.atomic():
            for chunk in _chunks(new):
                _insert(plan.model, chunk)
                done += len(chunk)
                if progress:
                    progress("writing", done, total)
            for chunk in _chunks(changed):
                _insert(plan.model, chunk, update_fields=plan.fields)
                done += len(chunk)
                if progress:
                    progress("writing", done, total)
    except IntegrityError:  # a row written meanwhile by someone else, with one of these ids
        raise BulkRejected(
            [RowError(None, None, api_settings.NON_FIELD_ERRORS_KEY, CONFLICTING_WRITE)]
        ) from None


def _insert(model, instances, update_fields=None) -> None:
    """Inserts the instances, or with `update_fields` upserts them on external_id (Django's
    bulk_update builds a CASE per field and row: 20 s for 5,000 deals where an upsert takes well
    under one).

    On PostgreSQL, one INSERT … SELECT FROM unnest() of an array per column: bulk_create's
    INSERT … VALUES of 1,000 rows has 12,000 placeholders, which Django compiles and psycopg
    splits value by value (a third of a 100,000-deal import's CPU: docs/performance.md).
    It is still an INSERT statement, which the deal-history trigger records as `recorded_by`."""
    if connection.vendor != "postgresql":
        kwargs = {"update_conflicts": True, "unique_fields": ["external_id"], "update_fields": update_fields}
        model.objects.bulk_create(instances, **(kwargs if update_fields else {}))
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and not f.generated]
    db = connections[DEFAULT_DB_ALIAS]  # not the proxy, which looks the connection up per use
    # pre_save(add=True), as bulk_create: the value to store (auto_now and such fields set it).
    columns = [[_db_value(f, f.pre_save(i, True), db) for i in instances] for f in fields]
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) SELECT * FROM unnest({arrays})"
    if update_fields:
        updated = [model._meta.get_field(name).column for name in update_fields]
        sql += f" ON CONFLICT ({quote('external_id')}) DO UPDATE SET " + ", ".join(
            f"{quote(c)} = EXCLUDED.{quote(c)}" for c in updated
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, columns)


def _db_value(field, value, db):
    if isinstance(value, DatabaseDefault):  # a column left to its db_default (a plain value)
        value = getattr(field.db_default, "value", field.db_default)  # "" or Value("")
    return field.get_db_prep_save(value, db)


def _chunks(items: list):
    for start in range(0, len(items), WRITE_BATCH):
        yield items[start : start + WRITE_BATCH]


def _as_saved(instance):
    """What the model's save() would store (bulk writes do not call it)."""
    if isinstance(instance, Opportunity):
        instance.follow_stage()
    return instance
