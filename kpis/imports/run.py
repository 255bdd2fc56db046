"""Preview and import of a file of one kind, through a mapping (docs/imports.md).

Both read the whole file the same way (`_check`): the mapping against the header, every row's
cells (rows.py), external ids given twice, then the rows through the kind's serializer with the
bulk API's machinery (kpis.bulk: the single write's validation and scoping, as `user`, without a
query per row) and what saving them would do (create, update, unchanged). A preview stops there;
an import writes — all rows or none, or, when asked, the good rows — in one transaction, with the
deal history naming `user` and one recompute once it commits.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from rest_framework.settings import api_settings

from salesperf import csv as safe_csv

from ..bulk import BulkRejected, Plan, bulk_check, bulk_plan, bulk_save
from ..models import ImportMapping
from . import reps
from .kinds import KINDS, Kind
from .reading import ImportFailed, Table
from .rows import Lookups, Reader, forecast_fixup, opportunity_fixup


class RowError(str):
    """A refused row's error as the admin reads it — "FILE, line N: field: reason", or without a
    field "FILE, line N: reason" — that also keeps its parts, for a caller that words or orders
    errors its own way (the import_crm preset names the file's columns)."""

    file: str
    line: int
    field: str
    reason: str

    def __new__(cls, file: str, line: int, field: str, reason: str):
        error = super().__new__(cls, f"{file}, line {line}: " + (f"{field}: " if field else "") + reason)
        error.file, error.line, error.field, error.reason = file, line, field, reason
        return error

    def __getnewargs__(self):  # pickled (a job's progress in the cache) and copied whole
        return self.file, self.line, self.field, self.reason


@dataclass
class Preview:
    rows: list[dict[str, str]]  # the first rows as they would be saved: {field label: shown value}
    errors: list[str]  # every row error: "FILE, line N: field: reason"
    unmapped: dict[str, list[str]]  # per field that maps values, the file's values not mapped yet
    counts: dict[str, int]  # create, update, unchanged, refused
    confirm: list[str]  # what the admin must confirm before the import (new users, teams, moves)
    encoding: str


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int
    refused: int
    errors: list[RowError]
    encoding: str
    error_csv: bytes | None  # the refused rows as in the file, with an "error" column


@dataclass
class _Checked:
    """What the whole file would do."""

    table: Table
    plan: Plan | reps.RepPlan | None
    lines: list[int]  # the file's line of each row the plan indexes
    shown: dict[int, dict[str, str]] = field(default_factory=dict)  # by line
    errors: dict[int, list[RowError]] = field(default_factory=dict)  # by line
    unmapped: dict[str, list[str]] = field(default_factory=dict)
    confirm: list[str] = field(default_factory=list)
    on_refused: Callable[[RowError], None] | None = None  # told each row error as it is found

    def refuse(self, line: int, field_name: str, reason: str) -> None:
        error = RowError(self.table.name, line, field_name, reason)
        self.errors.setdefault(line, []).append(error)
        if self.on_refused:
            self.on_refused(error)

    def messages(self) -> list[RowError]:
        return [error for line in sorted(self.errors) for error in self.errors[line]]

    def counts(self) -> dict[str, int]:
        plan = self.plan
        return {
            "create": len(plan.new) if plan else 0,
            "update": len(plan.changed) if plan else 0,
            "unchanged": len(plan.unchanged) if plan else 0,
            "refused": len(self.errors),
        }


class _AsUser:
    """The serializers' context: the request they validate for, here only its user."""

    def __init__(self, user):
        self.user = user


def preview_import(
    *, kind: str, table: Table, mapping: ImportMapping, user, rows: int = 20, progress=None, on_refused=None
) -> Preview:
    """What importing `table` would do; writes nothing. `progress(step, done, total)` and
    `on_refused(error)` follow the check as import_table's do."""
    checked = _check(kind, table, mapping, user, progress, on_refused)
    actions = {}
    if checked.plan:
        for what in ("new", "changed"):
            for index, _ in getattr(checked.plan, what):
                actions[checked.lines[index]] = "create" if what == "new" else "update"
        for index in checked.plan.unchanged:
            actions[checked.lines[index]] = "unchanged"
    shown = []
    for line, _ in table.rows[:rows]:
        action = actions.get(line, "refused")
        shown.append({"Line": str(line), **checked.shown.get(line, {}), "Import": action})
    return Preview(
        rows=shown,
        errors=checked.messages(),
        unmapped=checked.unmapped,
        counts=checked.counts(),
        confirm=checked.confirm,
        encoding=table.encoding,
    )


@transaction.atomic
def import_table(
    *,
    kind: str,
    table: Table,
    mapping: ImportMapping,
    user,
    good_rows_only: bool = False,
    confirmed: bool = False,
    progress=None,
    on_refused=None,
    recompute: bool = True,
) -> ImportResult:
    """Import `table`: all its rows or none (ImportFailed with every error), or with
    `good_rows_only` the good ones; what needs confirming (new users, teams, moves) is written
    only when `confirmed`. The KPIs are recomputed once, on commit, unless `recompute` is False.
    `progress(step, done, total)` is told how far it got, `on_refused(error)` each row error as
    it is found (a job's page shows them while it runs)."""
    checked = _check(kind, table, mapping, user, progress, on_refused)
    errors = checked.messages()
    if errors and not good_rows_only:
        raise ImportFailed(
            f"{table.name}: {len(checked.errors)} of {len(table.rows)} rows have errors; "
            "nothing was imported.",
            errors,
            _error_csv(checked),
        )
    if checked.confirm and not confirmed:
        listed = "".join(f"\n- {item}" for item in checked.confirm)
        raise ImportFailed(
            f"{table.name}: the import needs your confirmation:{listed}\nNothing was imported."
        )
    plan = checked.plan
    try:
        if isinstance(plan, reps.RepPlan):
            reps.reps_save(plan=plan, user=user, recompute=recompute, progress=progress)
        elif plan is not None:
            bulk_save(plan=plan, user=user, recompute=recompute, progress=progress)
    except BulkRejected as e:
        raise ImportFailed(f"{table.name}: {e.errors[0].message}") from None
    counts = checked.counts()
    return ImportResult(
        created=counts["create"],
        updated=counts["update"],
        unchanged=counts["unchanged"],
        refused=counts["refused"],
        errors=errors,
        encoding=table.encoding,
        error_csv=_error_csv(checked) if checked.errors else None,
    )


def mapping_errors(mapping: ImportMapping) -> dict[str, str]:
    """What makes a mapping unusable whatever the file: {its field: why} (ImportMapping.clean)."""
    spec = KINDS.get(mapping.kind)
    if spec is None:
        return {"kind": f"Choose one of {', '.join(KINDS)}."}
    fields = [f.name for f in spec.fields]
    columns, values = mapping.columns, mapping.values
    if not isinstance(columns, dict) or not all(isinstance(c, str) for c in columns.values()):
        return {"columns": 'Give {"field": "the column\'s header", ...}.'}
    if unknown := sorted(set(columns) - set(fields)):
        return {
            "columns": f"Not fields of {spec.key}: {', '.join(unknown)} (its fields: {', '.join(fields)})."
        }
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        return {"values": 'Give {"field": {"a value in the file": "ours"}, ...}.'}
    if unknown := sorted(set(values) - {f.name for f in spec.fields if f.maps_values}):
        return {"values": f"Not fields whose values are mapped: {', '.join(unknown)}."}
    return {}


def _columns(spec: Kind, table: Table, mapping: ImportMapping) -> None:
    """The mapping fits the kind and the file, or ImportFailed saying what is wrong."""
    if mapping.kind and mapping.kind != spec.key:
        raise ImportFailed(
            f"{table.name}: the mapping '{mapping.name}' is for {mapping.kind}, not {spec.key}."
        )
    shape = ImportMapping(kind=spec.key, columns=mapping.columns, values=mapping.values)
    if errors := mapping_errors(shape):
        raise ImportFailed(f"{table.name}: the mapping's " + " ".join(f"{k}: {v}" for k, v in errors.items()))
    columns = mapping.columns
    problems = [
        f"{name}: the mapping names the column '{column}', which the file lacks"
        for name, column in columns.items()
        if column not in table.header
    ]
    problems += [
        f"{f.name}: required, and no column is mapped to it"
        for f in spec.fields
        if f.required and f.name not in columns
    ]
    if problems:
        found = ", ".join(f"'{c}'" for c in table.header)
        raise ImportFailed(f"{table.name}: " + "; ".join(problems) + f". The file's columns: {found}.")


def _check(kind: str, table: Table, mapping: ImportMapping, user, progress=None, on_refused=None) -> _Checked:
    if kind not in KINDS:
        raise ImportFailed(f"{table.name}: '{kind}' is not a kind of import: use one of {', '.join(KINDS)}.")
    spec = KINDS[kind]
    if not spec.may_import(user):
        raise ImportFailed(f"{table.name}: you may not import {spec.label.lower()}.")
    _columns(spec, table, mapping)
    index = {name: table.header.index(column) for name, column in mapping.columns.items()}
    cells_of = {
        name: {cells[i] for _, cells in table.rows if i < len(cells) and cells[i]}
        for name, i in index.items()
    }
    reader = Reader(spec, table.header, mapping, Lookups(spec, cells_of, user))
    checked = _Checked(table=table, plan=None, lines=[], on_refused=on_refused)
    data_rows, ids = [], {}
    for n, (line, cells) in enumerate(table.rows):
        if progress and n % 1000 == 0:
            progress("reading", n, len(table.rows))
        data, shown, errors = reader.row(cells)
        if kind == "opportunities":
            opportunity_fixup(data, set(mapping.columns), reader.lookups.stages)
        elif kind == "forecasts":
            forecast_fixup(data, errors)
        checked.shown[line] = shown
        for field_name, reason in errors:
            checked.refuse(line, field_name, reason)
        if data.get("external_id"):
            ids.setdefault(data["external_id"], []).append(line)
        if not errors:
            data_rows.append((line, data))
    checked.unmapped = {name: sorted(values) for name, values in reader.unmapped.items()}
    twice = _given_twice(ids, checked)
    data_rows = [(line, data) for line, data in data_rows if data["external_id"] not in twice]
    if spec.serializer_class is None:
        checked.plan, checked.lines = reps.reps_plan(rows=data_rows, checked=checked, user=user)
        return checked
    rows = [data for _, data in data_rows]
    checked.lines = [line for line, _ in data_rows]
    result = bulk_check(
        serializer_class=spec.serializer_class, rows=rows, request=_AsUser(user), progress=progress
    )
    to_field = {f.to: f.name for f in spec.fields}
    for error in result.errors:
        name = to_field.get(error.field, error.field)
        checked.refuse(
            checked.lines[error.index],
            "row" if name == api_settings.NON_FIELD_ERRORS_KEY else name,
            error.message,
        )
    checked.plan = bulk_plan(checked=result)
    if kind == "forecasts":
        _forecasts_stay(checked, user)
    return checked


def _given_twice(ids: dict[str, list[int]], checked: _Checked) -> set[str]:
    """External ids on two lines or more: every such line is refused (which one is right?)."""
    twice = {key: lines for key, lines in ids.items() if len(lines) > 1}
    for key, lines in twice.items():
        for line in lines:
            others = ", ".join(str(other) for other in lines if other != line)
            checked.refuse(line, "external_id", f"'{key}' is also on line {others}: give each record once")
    return set(twice)


def _forecasts_stay(checked: _Checked, user) -> None:
    """A submission is history, never edited (targets.services.forecast_submit): a stored one the
    file changes is refused; new ones are recorded as submitted by the importer."""
    for index, _ in checked.plan.changed:
        checked.refuse(
            checked.lines[index],
            "external_id",
            "a stored submission is never changed: give a correction its own id",
        )
    checked.plan.changed = []
    for _, forecast in checked.plan.new:
        forecast.submitted_by = user if user.pk else None


def _error_csv(checked: _Checked) -> bytes:
    """The refused rows as the file has them, each with its errors in a last column; UTF-8 with a
    byte-order mark, which Excel needs to read it as UTF-8."""
    out = io.StringIO()
    writer = safe_csv.writer(out)
    writer.writerow([*checked.table.header, "error"])
    for line, cells in checked.table.rows:
        if line in checked.errors:
            reasons = "; ".join(f"{error.field}: {error.reason}" for error in checked.errors[line])
            writer.writerow([*cells, f"line {line}: {reasons}"])
    return out.getvalue().encode("utf-8-sig")
