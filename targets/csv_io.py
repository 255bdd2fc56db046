"""Bulk entry of targets as CSV, one target a row:

    scope,name,metric,period,value,baseline,uplift_pct
    rep,Alice,revenue_won,2017-Q1,30000.000000,,
    team,East,revenue_won,2017-Q2,,2017-Q1,10.00

`scope`, `name`, `metric` and `period` as `manage.py export_kpis` writes them (a rep's full name,
a team's name, or `all` for the company; a period label). A relative target leaves `value` empty
and gives `baseline` (a period label) and `uplift_pct`; both columns may be left out of files
with absolute targets only. The export writes relative targets so, and importing one recomputes
its value from the baseline snapshot, as setting it did.

All rows go through targets.services.target_save_batch (validation, permissions, history) as
one batch: one bad row and nothing is written.
"""

import csv
import io

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from kpis.periods import Period
from salesperf import csv as safe_csv
from teams import visibility
from teams.models import Rep, Team
from teams.subjects import Scope
from teams.tree import TeamTree

from .services import BatchInvalid, TargetChange, target_save_batch

COLUMNS = ["scope", "name", "metric", "period", "value"]
RELATIVE_COLUMNS = ["baseline", "uplift_pct"]
COMPANY_NAME = "all"
MAX_ROWS = 50_000


def targets_import_csv(*, user, file) -> list[str]:
    """Set (create or replace) the targets of a CSV file as `user`; all of them or none.

    `file` is a binary file (an upload, or open(path, "rb")). Returns the errors, each
    "line N: message" (the header is line 1), or one message when the file itself is unusable;
    an empty list when every row was written.
    """
    try:
        rows = _read(file)
    except ValueError as e:
        return [str(e)]
    # Only the names of those the user may set targets for: a rep or team outside their view is
    # "no rep named …", as one that does not exist (issue 14, item 7).
    tree = TeamTree.load()
    team_ids = visibility.visible_team_ids(user, tree)
    names = {
        Scope.REP: dict(Rep.objects.filter(team_id__in=team_ids).values_list("full_name", "pk")),
        Scope.TEAM: dict(Team.objects.filter(pk__in=team_ids).values_list("name", "pk")),
    }
    errors, seen, changes, lines = [], {}, [], []
    for line, row in rows:
        if isinstance(row, str):
            errors.append((line, row))
            continue
        try:
            scope, subject_id = _subject(row, names)
            key = (scope, subject_id, row["metric"], _period_key(row["period"]))
            if key in seen:
                raise ValidationError(
                    f"repeats line {seen[key]} ({row['name']}, {row['metric']}, {row['period']})."
                )
            seen[key] = line
        except ValidationError as e:
            errors.extend((line, message) for message in _messages(e))
            continue
        changes.append(
            TargetChange(
                scope,
                subject_id,
                row["metric"],
                row["period"],
                value=row["value"] or None,
                baseline=row.get("baseline") or None,
                uplift_pct=row.get("uplift_pct") or None,
            )
        )
        lines.append(line)
    conflict = []
    with transaction.atomic():  # one batch: every row is checked, and kept only if all are good
        try:
            target_save_batch(user=user, changes=changes, tree=tree, replace=True)
        except BatchInvalid as e:
            for index, error in e.errors.items():
                errors += [(lines[index], message) for message in _messages(error)]
        except ValidationError as e:  # another request wrote one of these targets meanwhile
            conflict = _messages(e)
        if errors or conflict:
            transaction.set_rollback(True)
    return [f"line {line}: {message}" for line, message in sorted(errors, key=lambda e: e[0])] + conflict


def targets_export_csv(*, targets, stream) -> None:
    """Write `targets` (a queryset the caller has scoped: `Target.objects.visible_to(user)`) to
    `stream` (text), in the format the import reads."""
    out = safe_csv.writer(stream, lineterminator="\n")
    out.writerow(COLUMNS + RELATIVE_COLUMNS)
    targets = targets.select_related("rep", "team")
    targets = targets.order_by(
        "period_kind", "period_start", "scope", "rep__full_name", "team__name", "metric"
    )
    for t in targets.iterator(chunk_size=2000):
        name = t.rep.full_name if t.rep else t.team.name if t.team else COMPANY_NAME
        relative = t.is_relative
        out.writerow(
            [
                t.scope,
                name,
                t.metric,
                t.period.label,
                "" if relative else f"{t.value:.6f}",
                Period.from_start(t.period_kind, t.baseline_start).label if relative else "",
                f"{t.uplift_pct:.2f}" if relative else "",
            ]
        )


def csv_text(data: bytes) -> str:
    """The bytes of a file as text, or ValueError saying where they are not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ValueError(
            f"The file is not UTF-8 text (line {line} is not): save it as 'CSV UTF-8' and try again."
        ) from None


def _read(file) -> list[tuple[int, dict[str, str] | str]]:
    """[(line number, {column: stripped text} or what is wrong with the row)], or ValueError
    saying why the file as a whole is unusable."""
    max_bytes = settings.IMPORT_MAX_MB * 1024 * 1024
    data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"The file is over {settings.IMPORT_MAX_MB} MB: split it into smaller files.")
    if isinstance(data, bytes):
        data = csv_text(data)
    if "\x00" in data:  # no CSV text holds NUL: a binary file, or UTF-16 read as bytes
        raise ValueError(
            "The file is not CSV text (it holds NUL bytes): save it as 'CSV UTF-8' and try again."
        )
    reader = csv.reader(io.StringIO(data, newline=""))
    try:
        header = [column.strip().lower() for column in next(reader)]
    except StopIteration:
        raise ValueError(f"The file is empty: expected the header {','.join(COLUMNS)}.") from None
    except csv.Error as e:
        raise ValueError(f"line 1: {e}") from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValueError(
            f"The header lacks the column(s) {', '.join(missing)}: expected "
            f"{','.join(COLUMNS)} (and optionally {','.join(RELATIVE_COLUMNS)})."
        )
    unknown = [c for c in header if c not in COLUMNS + RELATIVE_COLUMNS]
    if unknown:
        raise ValueError(
            f"The header has unknown column(s) {', '.join(unknown)}: expected "
            f"{','.join(COLUMNS)} (and optionally {','.join(RELATIVE_COLUMNS)})."
        )
    if len(set(header)) != len(header):
        raise ValueError("The header names a column twice.")
    rows = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue  # a blank line, e.g. at the end
            if len(rows) == MAX_ROWS:
                raise ValueError(f"The file has more than {MAX_ROWS:,} rows: split it into smaller files.")
            if len(values) != len(header):
                rows.append((reader.line_num, f"expected {len(header)} fields, found {len(values)}."))
            else:
                rows.append((reader.line_num, dict(zip(header, (v.strip() for v in values), strict=True))))
    except csv.Error as e:
        raise ValueError(f"line {reader.line_num}: {e}") from None
    if not rows:
        raise ValueError("The file has a header but no rows: nothing to import.")
    return rows


def _subject(row, names) -> tuple[str, int]:
    scope, name = row["scope"].lower(), safe_csv.text_of(row["name"])  # as the export wrote it
    if scope == Scope.COMPANY:
        if name != COMPANY_NAME:
            raise ValidationError(f"a company target's name is '{COMPANY_NAME}', not '{name}'.")
        return scope, 0
    if scope not in names:
        raise ValidationError(f"'{scope}' is not a scope: use rep, team or company.")
    try:
        return scope, names[scope][name]
    except KeyError:
        raise ValidationError(f"no {scope} named '{name}' that you may set targets for.") from None


def _period_key(label: str):
    """The period a label names, so that 2017-1 and 2017-01 are the same; the label if none."""
    try:
        return Period.parse(label)
    except ValueError:
        return label


def _messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [m for messages in error.message_dict.values() for m in messages]
    return error.messages
