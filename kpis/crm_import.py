"""Import of the public "CRM Sales Opportunities" layout (see DESIGN.md for the mapping): one
preset of the mapped import (kpis.imports, docs/imports.md) around the one part of the layout no
kind of fact has.

- sales_teams.csv is this module's own: regions, teams named after their managers and managed by
  their users, reps and their moves.
- accounts.csv and sales_pipeline.csv go through `kpis.imports.import_table` with preset mappings
  (`accounts_mapping`, `pipeline_mapping`), keeping the good rows; the layout's own policies are
  steps on the table before it (`_first_of_each`: a duplicated key keeps its first line; an open
  deal without close_value takes its product's price from products.csv) and on the data after
  it (`_first_states`, `_set_acquisition_dates`).

Rows that cannot be taken are reported ("FILE, line N: reason") and skipped whole. The whole
import is one transaction with one recompute once it commits, so a re-import updates and never
duplicates, and a failure leaves nothing behind.

People and teams are matched by name, so a file can name what already exists: a user (by the
username a name makes), a rep, a team. Whatever the import would change in that existing
organisation — a user made a manager or a rep, a rep moved, a team moved, detached or given
another manager — is listed (`Report.org_changes`) and applied only when the caller confirms
that very list (`confirm_org`: its digest, or True); otherwise nothing is imported.

A new deal's history starts at its known creation date in its first known state
(`_first_states`); a change a re-import makes to a deal is recorded by the database, from now
(kpis.deal_history). The file has no expected close dates: imported deals have none.
"""

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min
from django.utils.text import slugify

from teams.history import memberships_start
from teams.models import Rep, Team

from .deal_history import chunks, day_start, states_load
from .imports import ImportFailed, RowError, Table, import_table, read_table
from .imports.rows import CHOOSE
from .imports.values import parse_amount, parse_integer
from .models import Customer, ImportMapping, Opportunity, OpportunityState, Stage
from .signals import bulk_changes

FILES = {
    "sales_teams.csv": ["sales_agent", "manager", "regional_office"],
    "products.csv": ["product", "sales_price"],
    "accounts.csv": ["account", "sector"],
    "sales_pipeline.csv": [
        "opportunity_id",
        "sales_agent",
        "product",
        "account",
        "deal_stage",
        "engage_date",
        "close_date",
        "close_value",
    ],
}
# accounts.csv's descriptive columns, which a file may lack: (customer field, parser).
ACCOUNT_FIGURES = {
    "year_established": ("year_established", parse_integer),
    "employees": ("employees", parse_integer),
    "revenue": ("annual_revenue", parse_amount),
}
ACCOUNT_COLUMNS = [*FILES["accounts.csv"], "office_location", "subsidiary_of", *ACCOUNT_FIGURES]
DEAL_NAME = "name"  # the column the preset adds to sales_pipeline.csv: "product – account"
# Stage name in the file → (order, default win probability, outcome). Probabilities of stages
# that already exist are data and are left as an admin set them.
STAGES = {
    "Prospecting": (1, Decimal("0.10"), Stage.Outcome.OPEN),
    "Engaging": (2, Decimal("0.40"), Stage.Outcome.OPEN),
    "Won": (9, Decimal("1"), Stage.Outcome.WON),
    "Lost": (10, Decimal("0"), Stage.Outcome.LOST),
}


def accounts_mapping() -> ImportMapping:
    """accounts.csv as customers: the account name is both the external id and the name."""
    return ImportMapping(
        kind="customers",
        columns={
            "external_id": "account",
            "name": "account",
            "sector": "sector",
            "country": "office_location",
            "subsidiary_of": "subsidiary_of",
            **{name: column for column, (name, _) in ACCOUNT_FIGURES.items()},
        },
    )


def pipeline_mapping(stages: dict[str, Stage]) -> ImportMapping:
    """sales_pipeline.csv as opportunities: the agent is the owner (a rep by full name), the
    account the customer (by external id), the file's four stages ours (`_stages`)."""
    return ImportMapping(
        kind="opportunities",
        columns={
            "external_id": "opportunity_id",
            "name": DEAL_NAME,
            "owner": "sales_agent",
            "customer": "account",
            "stage": "deal_stage",
            "amount": "close_value",
            "created_on": "engage_date",
            "closed_on": "close_date",
            "product": "product",
        },
        values={"stage": {name: str(stage.pk) for name, stage in stages.items()}},
    )


class OrgChangesUnconfirmed(ImportFailed):
    """The import would change the existing organisation, and the caller did not confirm it."""

    def __init__(self, changes: list[str], digest: str):
        self.changes, self.digest = changes, digest
        listed = "".join(f"\n- {change}" for change in changes)
        super().__init__(
            f"The import would change the existing organisation:{listed}\nConfirm these changes."
        )


@dataclass
class Report:
    skipped: list[RowError] = field(default_factory=list)  # "FILE, line N: reason", by file and line
    rows_skipped: int = 0  # a row may have several reasons
    counts: dict[str, int] = field(default_factory=dict)
    org_changes: list[str] = field(default_factory=list)  # to existing users, reps and teams
    org_digest: str = ""  # names that list: what a confirmation confirms
    on_skip: Callable[[RowError], None] | None = field(default=None, repr=False)  # told of each, as it comes

    def skip(self, name, line, reason, column=""):
        self.rows_skipped += 1
        self.skipped.append(RowError(name, line, column, reason))
        if self.on_skip:
            self.on_skip(self.skipped[-1])


def product_key(name: str) -> str:
    """Products match ignoring case and spaces: 'GTXPro' is 'GTX Pro'."""
    return re.sub(r"\s+", "", name).lower()


def _read(directory: Path, name: str) -> Table:
    """A file of the layout as a table (kpis.imports.read_table), UTF-8 only, with its columns."""
    path = directory / name
    if not path.is_file():
        raise ImportFailed(f"{path}: file not found.")
    if path.stat().st_size > settings.IMPORT_MAX_MB * 1024 * 1024:
        raise ImportFailed(f"{path}: over {settings.IMPORT_MAX_MB} MB: split it into smaller files.")
    data = path.read_bytes()
    try:  # read_table would take Windows-1252 too: this layout is UTF-8, with or without a BOM
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ImportFailed(f"{path}: not UTF-8 text (line {line} is not): save it as 'CSV UTF-8'.") from None
    try:
        table = read_table(data, name=name)
    except ImportFailed as e:
        raise ImportFailed(f"{directory}/{e.message}") from None
    missing = [c for c in FILES[name] if c not in table.header]
    if missing:
        raise ImportFailed(f"{path}: missing column(s) {', '.join(missing)}.")
    return table


def _records(table: Table) -> list[tuple[int, dict[str, str]]]:
    """The rows as {column: cell}, as csv.DictReader reads them: a missing cell is empty, one
    past the header's ignored."""
    columns = list(enumerate(table.header))
    return [
        (line, {column: cells[i] if i < len(cells) else "" for i, column in columns if column})
        for line, cells in table.rows
    ]


def _table(name: str, columns: list[str], records) -> Table:
    """Rows given as {column: cell}, as a table of these columns (an absent one is empty)."""
    rows = [(line, [row.get(column, "") for column in columns]) for line, row in records]
    return Table(name=name, encoding="UTF-8", header=columns, rows=rows)


def _fit(model, field_name: str, column: str, value):
    """`value`, or ValueError when the model's column cannot hold it (too long, out of range)."""
    try:
        model._meta.get_field(field_name).run_validators(value)
    except ValidationError as e:
        raise ValueError(f"{column} '{_short(value)}': {' '.join(e.messages)}") from None
    return value


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _importer():
    """Who imports when no one is named (the command line), as import_facts: an administrator no
    one is, who sees and may write everything; the deal history records nobody."""
    return get_user_model()(username="import_crm", is_staff=True, is_active=True)


def import_crm(
    directory,
    *,
    recompute=True,
    progress=None,
    on_skip=None,
    confirm_org: str | bool = False,
    user=None,
) -> Report:
    """Import a directory; unless told not to, the snapshots are recomputed once it commits.

    `progress(step, done, total)` hears how far it got (the deals: rows written of all), and
    `on_skip(line)` of each row it skips, as it skips it (a background job's page shows both).
    `user` imports the accounts and deals (what they may see and write; the deal history names
    them); by default an administrator no one is.
    OrgChangesUnconfirmed when it would change the existing organisation and `confirm_org` is
    neither True nor the digest of those changes (a preview's `Report.org_digest`)."""
    progress = progress or (lambda step, done=0, total=None: None)
    user = user or _importer()
    directory = Path(directory)
    if not directory.is_dir():
        raise ImportFailed(f"{directory}: no such directory.")
    tables = {name: _read(directory, name) for name in FILES}
    report = Report(on_skip=on_skip)
    with transaction.atomic(), bulk_changes(recompute=recompute):
        reps = _import_teams(_records(tables["sales_teams.csv"]), report, confirm_org)
        progress("teams and reps", len(reps))
        prices = _prices(_records(tables["products.csv"]), report)
        customers = _import_accounts(tables["accounts.csv"], report, user)
        progress("accounts", len(customers))
        _import_pipeline(tables["sales_pipeline.csv"], prices, report, user, progress)
        _set_acquisition_dates(customers)
    return report


def _username(name: str) -> str:
    return slugify(name).replace("-", ".")[:150] or "user"


def _users_for(names: set[str]) -> dict[str, int]:
    """A user per person (reps and managers), found again by username on a re-import."""
    User = get_user_model()
    users = {}
    for name in sorted(names):
        first, _, last = name.partition(" ")
        user, created = User.objects.get_or_create(
            username=_username(name),
            defaults={"first_name": first[:150], "last_name": last[:150]},
        )
        if created:  # they sign in once an admin gives them a password
            user.set_unusable_password()
            user.save(update_fields=["password"])
        users[name] = user.pk
    return users


def _org_changes(agents: dict[str, dict]) -> list[str]:
    """What importing these sales_teams.csv rows would change in the organisation that exists.
    New users, teams and reps are not changes; a re-import of the same rows changes nothing."""
    regions = {row["regional_office"] for row in agents.values()}
    managers = {}  # a manager's team goes under the region of its first row, as _import_teams does
    for row in agents.values():
        managers.setdefault(row["manager"], row["regional_office"])
    usernames = {name: _username(name) for name in set(agents) | set(managers)}
    users = {u.username: u for u in get_user_model().objects.filter(username__in=usernames.values())}
    teams = {
        t.name: t for t in Team.objects.filter(name__in=regions | set(managers)).select_related("parent")
    }
    reps = {r.full_name: r for r in Rep.objects.filter(full_name__in=agents).select_related("team")}
    changes = []
    for region in sorted(regions):
        team = teams.get(region)
        if team is not None and team.parent_id is not None:
            changes.append(f"team '{region}' would be detached from '{team.parent}' to become a region")
    for manager, region in sorted(managers.items()):
        team, user = teams.get(manager), users.get(usernames[manager])
        if team is None:
            if user is not None:
                changes.append(f"user '{user.username}' would become the manager of a new team '{manager}'")
            continue
        if team.parent is None or team.parent.name != region:
            changes.append(
                f"team '{manager}' would move from '{team.parent or 'the top'}' to under '{region}'"
            )
        if user is None or team.manager_id != user.pk:
            by = user.username if user else "a new user"
            changes.append(
                f"team '{manager}' would be managed by '{by}' instead of '{team.manager or 'nobody'}'"
            )
    for name, row in sorted(agents.items()):
        rep, user = reps.get(name), users.get(usernames[name])
        if rep is not None and rep.team.name != row["manager"]:
            changes.append(f"rep '{name}' would move from team '{rep.team}' to '{row['manager']}'")
        elif rep is None and user is not None:
            changes.append(f"user '{user.username}' would become the rep '{name}'")
    return changes


def _skip_agents_of_taken_users(agents: dict[str, dict], lines: dict[str, int], report) -> None:
    """An agent's user is found by the username its name makes, and a user is one rep at most: an
    agent whose user is already the rep of another name, or is the user of an agent on an earlier
    line ("Erik Patel" and "Erik-Patel"), is reported and skipped (its deals then name an unknown
    agent) rather than crashing the import on the one-rep-per-user rule."""
    usernames = {name: _username(name) for name in agents}
    rep_of = dict(
        Rep.objects.filter(user__username__in=usernames.values()).values_list("user__username", "full_name")
    )
    claimed = {}
    for name in sorted(agents, key=lines.get):
        username = usernames[name]
        if rep_of.get(username, name) != name:
            reason = f"{name} would be the user '{username}', who is already the rep '{rep_of[username]}'"
        elif username in claimed:
            reason = f"{name} would be the user '{username}', as {claimed[username]} on an earlier line is"
        else:
            claimed[username] = name
            continue
        report.skip("sales_teams.csv", lines[name], reason)
        del agents[name]


def _import_teams(rows, report, confirm_org) -> dict[str, int]:
    agents, lines = {}, {}
    for line, row in rows:
        if not (row["sales_agent"] and row["manager"] and row["regional_office"]):
            report.skip("sales_teams.csv", line, "sales_agent, manager and regional_office are all required")
        elif row["sales_agent"] in agents:
            report.skip("sales_teams.csv", line, f"{row['sales_agent']} is listed twice")
        else:
            try:
                _fit(Rep, "full_name", "sales_agent", row["sales_agent"])
                _fit(Team, "name", "manager", row["manager"])
                _fit(Team, "name", "regional_office", row["regional_office"])
            except ValueError as e:
                report.skip("sales_teams.csv", line, str(e))
                continue
            agents[row["sales_agent"]] = row
            lines[row["sales_agent"]] = line
    _skip_agents_of_taken_users(agents, lines, report)
    report.org_changes = _org_changes(agents)
    report.org_digest = hashlib.sha256("\n".join(report.org_changes).encode()).hexdigest()[:16]
    if report.org_changes and confirm_org not in (True, report.org_digest):
        raise OrgChangesUnconfirmed(report.org_changes, report.org_digest)
    managers = {row["manager"] for row in agents.values()}
    users = _users_for(set(agents) | managers)
    teams = {}
    for region in sorted({row["regional_office"] for row in agents.values()}):
        teams[region], _ = Team.objects.update_or_create(name=region, defaults={"parent": None})
    for row in agents.values():
        manager = row["manager"]
        if manager not in teams:
            teams[manager], _ = Team.objects.update_or_create(
                name=manager, defaults={"parent": teams[row["regional_office"]], "manager_id": users[manager]}
            )
    # An agent under another manager than before moves, from today (teams.history); the others
    # stay as they are, so a re-import of the same rows moves nobody.
    existing = {rep.full_name: rep for rep in Rep.objects.filter(full_name__in=agents)}
    for name, row in agents.items():
        rep = existing.get(name)
        if rep is not None and rep.team_id != teams[row["manager"]].pk:
            rep.team = teams[row["manager"]]
            rep.save(update_fields=["team"])
    memberships_start(
        Rep.objects.bulk_create(
            Rep(full_name=name, user_id=users[name], team=teams[row["manager"]])
            for name, row in agents.items()
            if name not in existing
        )
    )
    report.counts["reps"] = len(agents)
    return dict(Rep.objects.filter(full_name__in=agents).values_list("full_name", "pk"))


def _prices(rows, report) -> dict[str, Decimal]:
    prices = {}
    for line, row in rows:
        if product_key(row["product"]) in prices:
            report.skip("products.csv", line, f"{row['product']} is listed twice")
            continue
        try:
            prices[product_key(row["product"])] = parse_amount(row["sales_price"], decimal_comma=False)
        except ValueError as e:
            report.skip("products.csv", line, str(e), column="sales_price")
    return prices


def _first_of_each(name: str, records, column: str, report):
    """The records whose `column` no earlier line gives: a later line with the same key is
    reported and dropped (the mapped import would refuse every line of the key)."""
    first, kept = {}, []
    for line, row in records:
        key = row[column]
        if key in first:
            reason = f"'{_short(key)}' appears twice: line {first[key]} is taken"
            report.skip(name, line, reason, column=column)
            continue
        if key:
            first[key] = line
        kept.append((line, row))
    return kept


def _import_mapped(kind, table: Table, mapping, report, user, since: int, progress=None) -> list:
    """The table's good rows through the mapped import: the rows taken. The bad ones are
    reported, in the order of their lines with those the preset dropped (report.skipped[since:]),
    each naming the file's column rather than the field it maps to, and without the advice to
    change a mapping that the admin does not choose."""

    def in_file(error: RowError) -> RowError:
        column = mapping.columns.get(error.field, error.field)
        return RowError(error.file, error.line, column, error.reason.removesuffix(f": {CHOOSE}"))

    result = import_table(
        kind=kind,
        table=table,
        mapping=mapping,
        user=user,
        good_rows_only=True,
        progress=progress,
        on_refused=report.on_skip and (lambda error: report.on_skip(in_file(error))),
        recompute=False,  # import_crm's own bulk_changes recomputes once, on commit
    )
    report.rows_skipped += result.refused
    errors = [in_file(error) for error in result.errors]
    report.skipped[since:] = sorted([*report.skipped[since:], *errors], key=attrgetter("line"))
    refused = {error.line for error in result.errors}
    return [(line, cells) for line, cells in table.rows if line not in refused]


def _import_accounts(table: Table, report, user) -> dict[str, int]:
    """accounts.csv through `accounts_mapping`. Its descriptive figures (year, employees,
    revenue) are not worth an account: one that cannot be read or stored is left empty."""
    since = len(report.skipped)
    records = _first_of_each(table.name, _records(table), "account", report)
    for _, row in records:
        for column, (field_name, parse) in ACCOUNT_FIGURES.items():
            if row.get(column):
                try:
                    value = parse(row[column], False)
                    Customer._meta.get_field(field_name).run_validators(value)
                except (ValueError, ValidationError):
                    row[column] = ""
    accounts = _table(table.name, ACCOUNT_COLUMNS, records)
    taken = _import_mapped("customers", accounts, accounts_mapping(), report, user, since)
    names = [cells[0] for _, cells in taken]
    report.counts["customers"] = len(names)
    found = {}
    for chunk in chunks(names, 5000):
        found.update(Customer.objects.filter(external_id__in=chunk).values_list("external_id", "pk"))
    return found


def _stages() -> dict[str, Stage]:
    found = {}
    for name, (order, probability, outcome) in STAGES.items():
        found[name], _ = Stage.objects.get_or_create(
            name=name, defaults={"order": order, "probability": probability, "outcome": outcome}
        )
    return found


def _import_pipeline(table: Table, prices, report, user, progress) -> None:
    """sales_pipeline.csv through `pipeline_mapping`: a deal without close_value is worth its
    product's price (products.csv), and is named after its product and account."""
    stages, records, since = _stages(), [], len(report.skipped)
    for line, row in _first_of_each(table.name, _records(table), "opportunity_id", report):
        if not row["close_value"]:
            price = prices.get(product_key(row["product"]))
            if price is None:
                reason = f"product '{_short(row['product'])}' is not in products.csv"
                report.skip(table.name, line, f"empty, and {reason}", column="close_value")
                continue
            row["close_value"] = str(price)
        row[DEAL_NAME] = f"{row['product']} – {row['account'] or 'no account'}"[:200]
        records.append((line, row))
    deals = _table(table.name, [*FILES["sales_pipeline.csv"], DEAL_NAME], records)
    ids = [cells[0] for _, cells in deals.rows if cells[0]]
    known = set()  # the deals that exist already: a re-import's changes are the database's to record
    for chunk in chunks(ids, 5000):
        known.update(Opportunity.objects.filter(external_id__in=chunk).values_list("external_id", flat=True))

    def writing(step, done=0, total=None):
        if step == "writing":
            progress("opportunities", done, total)

    taken = _import_mapped("opportunities", deals, pipeline_mapping(stages), report, user, since, writing)
    report.counts["opportunities"] = len(taken)
    new = [cells[0] for _, cells in taken if cells[0] not in known]
    states_load(_first_states(new, stages["Engaging"], prices))


def _first_states(new: list[str], engaging: Stage, prices) -> list[OpportunityState]:
    """The known past of new deals (by external id) that the database's one state per new deal
    does not tell: a won or lost deal with an engage date was Engaging from then until its close
    date, at its product's price as an open deal is (a lost deal's close_value is 0), then won or
    lost. The states take when and by whom the database recorded the deal."""
    states = []
    for chunk in chunks(new, 5000):
        recorded = (
            OpportunityState.objects.filter(
                opportunity__external_id__in=chunk, opportunity__created_on__isnull=False
            )
            .exclude(opportunity__stage__outcome=Stage.Outcome.OPEN)
            .select_related("opportunity__stage")
        )
        for state in recorded:
            deal = state.opportunity
            closing, opening = day_start(deal.closed_on), prices.get(product_key(deal.product), deal.amount)
            alike = {"opportunity_id": deal.pk, "rep_id": deal.rep_id, "recorded_at": state.recorded_at}
            alike["recorded_by_id"] = state.recorded_by_id
            states += [
                OpportunityState(since=None, until=closing, stage=engaging, amount=opening, **alike),
                OpportunityState(
                    since=closing, stage=deal.stage, amount=deal.amount, closed_on=deal.closed_on, **alike
                ),
            ]
    return states


def _set_acquisition_dates(customers: dict[str, int]) -> None:
    """The data has no acquisition date: a customer is acquired on the close of its first win."""
    firsts = dict(
        Opportunity.objects.filter(customer_id__in=customers.values(), stage__outcome=Stage.Outcome.WON)
        .values("customer_id")
        .annotate(first=Min("closed_on"))
        .values_list("customer_id", "first")
    )
    rows = Customer.objects.filter(pk__in=customers.values())
    changed = []
    for customer in rows:
        first = firsts.get(customer.pk)
        if customer.acquired_on != first and (customer.churned_on is None or first is not None):
            customer.acquired_on = first
            changed.append(customer)
    Customer.objects.bulk_update(changed, ["acquired_on"], batch_size=1000)
