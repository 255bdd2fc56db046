"""Import of the public "CRM Sales Opportunities" layout (see DESIGN.md for the mapping).

Every row is checked first; rows that cannot be taken are reported with file, line and reason
and skipped whole. The rest is written in one transaction with bulk upserts keyed on names and
external ids, so a re-import updates and never duplicates, and a failure leaves nothing behind.

People and teams are matched by name, so a file can name what already exists: a user (by the
username a name makes), a rep, a team. Whatever the import would change in that existing
organisation — a user made a manager or a rep, a rep moved, a team moved, detached or given
another manager — is listed (`Report.org_changes`) and applied only when the caller confirms
that very list (`confirm_org`: its digest, or True); otherwise nothing is imported.

A new deal's history starts at its known creation date in its first known state
(`_first_states`); a change a re-import makes to a deal is recorded by the database, from now
(kpis.deal_history). The file has no expected close dates: imported deals have none.
"""

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min
from django.utils.text import slugify

from teams.history import memberships_start
from teams.models import Rep, Team

from .deal_history import day_start, states_load
from .models import Customer, Opportunity, OpportunityState, Stage
from .periods import FIRST_YEAR, LAST_YEAR, in_range
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
# Stage name in the file → (order, default win probability, outcome). Probabilities of stages
# that already exist are data and are left as an admin set them.
STAGES = {
    "Prospecting": (1, Decimal("0.10"), Stage.Outcome.OPEN),
    "Engaging": (2, Decimal("0.40"), Stage.Outcome.OPEN),
    "Won": (9, Decimal("1"), Stage.Outcome.WON),
    "Lost": (10, Decimal("0"), Stage.Outcome.LOST),
}


MONEY_LIMIT = Decimal(10) ** 12  # a MoneyField holds 14 digits, 2 after the point


class ImportFailed(Exception):
    """The directory cannot be imported at all (a file or column is missing, a file is unreadable)."""


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
    skipped: list[str] = field(default_factory=list)  # "file:line: reason"
    counts: dict[str, int] = field(default_factory=dict)
    org_changes: list[str] = field(default_factory=list)  # to existing users, reps and teams
    org_digest: str = ""  # names that list: what a confirmation confirms
    on_skip: Callable[[str], None] | None = field(default=None, repr=False)  # told of each, as it comes

    def skip(self, name, line, reason):
        self.skipped.append(f"{name}:{line}: {reason}")
        if self.on_skip:
            self.on_skip(self.skipped[-1])


def product_key(name: str) -> str:
    """Products match ignoring case and spaces: 'GTXPro' is 'GTX Pro'."""
    return re.sub(r"\s+", "", name).lower()


def _read(directory: Path, name: str):
    path = directory / name
    if not path.is_file():
        raise ImportFailed(f"{path}: file not found.")
    if path.stat().st_size > settings.IMPORT_MAX_MB * 1024 * 1024:
        raise ImportFailed(f"{path}: over {settings.IMPORT_MAX_MB} MB: split it into smaller files.")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ImportFailed(f"{path}: not UTF-8 text (line {line} is not): save it as 'CSV UTF-8'.") from None
    if "\x00" in text:  # no CSV text holds NUL, and PostgreSQL would refuse it
        raise ImportFailed(f"{path}: not CSV text (it holds NUL bytes).")
    if not text.strip():
        raise ImportFailed(f"{path}: the file is empty.")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        missing = [c for c in FILES[name] if c not in (reader.fieldnames or [])]
        if missing:
            raise ImportFailed(f"{path}: missing column(s) {', '.join(missing)}.")
        return [(reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}) for row in reader]
    except csv.Error as e:  # e.g. a field over csv's size limit
        raise ImportFailed(f"{path}:{reader.reader.line_num}: {e}.") from None


def _fit(model, field_name: str, column: str, value):
    """`value`, or ValueError when the model's column cannot hold it (too long, out of range)."""
    try:
        model._meta.get_field(field_name).run_validators(value)
    except ValidationError as e:
        raise ValueError(f"{column} '{_short(value)}': {' '.join(e.messages)}") from None
    return value


def _date(row, column: str) -> dt.date | None:
    """The column's date, or ValueError saying why it is not one."""
    if not row[column]:
        return None
    try:
        day = dt.date.fromisoformat(row[column])
    except ValueError:
        raise ValueError(f"{column} must be YYYY-MM-DD, not '{row[column]}'") from None
    if not in_range(day):
        raise ValueError(f"{column} {row[column]} is not between {FIRST_YEAR} and {LAST_YEAR}")
    return day


def _money(value: str) -> Decimal:
    """An amount from 0 up to what a MoneyField holds, or InvalidOperation."""
    amount = Decimal(value)
    if not amount.is_finite() or not 0 <= amount < MONEY_LIMIT:
        raise InvalidOperation
    return amount.quantize(Decimal("0.01"))


def _not_an_amount(column: str, value: str) -> str:
    return f"{column} '{_short(value)}' is not an amount from 0 to {MONEY_LIMIT - Decimal('0.01'):,}"


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def import_crm(
    directory, *, recompute=True, progress=None, on_skip=None, confirm_org: str | bool = False
) -> Report:
    """Import a directory; unless told not to, the snapshots are recomputed once it commits.

    `progress(step, done, total)` hears how far it got (the deals: rows written of all), and
    `on_skip(line)` of each row it skips, as it skips it (a background job's page shows both).
    OrgChangesUnconfirmed when it would change the existing organisation and `confirm_org` is
    neither True nor the digest of those changes (a preview's `Report.org_digest`)."""
    progress = progress or (lambda step, done=0, total=None: None)
    directory = Path(directory)
    if not directory.is_dir():
        raise ImportFailed(f"{directory}: no such directory.")
    data = {name: _read(directory, name) for name in FILES}
    report = Report(on_skip=on_skip)
    with transaction.atomic(), bulk_changes(recompute=recompute):
        reps = _import_teams(data["sales_teams.csv"], report, confirm_org)
        progress("teams and reps", len(reps))
        prices = _prices(data["products.csv"], report)
        customers = _import_accounts(data["accounts.csv"], report)
        progress("accounts", len(customers))
        _import_pipeline(data["sales_pipeline.csv"], reps, prices, customers, report, progress)
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
            prices[product_key(row["product"])] = _money(row["sales_price"])
        except InvalidOperation:
            report.skip("products.csv", line, _not_an_amount("sales_price", row["sales_price"]))
    return prices


def _import_accounts(rows, report) -> dict[str, int]:
    accounts = {}
    for line, row in rows:
        if not row["account"]:
            report.skip("accounts.csv", line, "account name is empty")
            continue
        if row["account"] in accounts:
            report.skip("accounts.csv", line, f"{row['account']} is listed twice")
            continue
        try:
            _fit(Customer, "external_id", "account", row["account"])
            _fit(Customer, "sector", "sector", row["sector"])
            _fit(Customer, "country", "office_location", row.get("office_location", ""))
            _fit(Customer, "subsidiary_of", "subsidiary_of", row.get("subsidiary_of", ""))
        except ValueError as e:
            report.skip("accounts.csv", line, str(e))
            continue
        # Descriptive numbers: one that cannot be read, or cannot be stored, is left empty.
        numbers = {}
        for column, field_name, cast in [
            ("year_established", "year_established", int),
            ("employees", "employees", int),
            ("revenue", "annual_revenue", _money),
        ]:
            try:
                value = cast(row[column]) if row.get(column) else None
                numbers[column] = None if value is None else _fit(Customer, field_name, column, value)
            except (ValueError, InvalidOperation):
                numbers[column] = None
        accounts[row["account"]] = Customer(
            external_id=row["account"],
            name=row["account"],
            sector=row["sector"],
            country=row.get("office_location", ""),
            subsidiary_of=row.get("subsidiary_of", ""),
            year_established=numbers["year_established"],
            employees=numbers["employees"],
            annual_revenue=numbers["revenue"],
        )
    fields = ["name", "sector", "country", "subsidiary_of", "year_established", "employees", "annual_revenue"]
    Customer.objects.bulk_create(
        accounts.values(), update_conflicts=True, unique_fields=["external_id"], update_fields=fields
    )
    report.counts["customers"] = len(accounts)
    return dict(Customer.objects.filter(external_id__in=accounts).values_list("external_id", "pk"))


def _stages() -> dict[str, Stage]:
    found = {}
    for name, (order, probability, outcome) in STAGES.items():
        found[name], _ = Stage.objects.get_or_create(
            name=name, defaults={"order": order, "probability": probability, "outcome": outcome}
        )
    return found


def _pipeline_row(row, reps, prices, customers, stages) -> Opportunity:
    """An Opportunity from a row, or ValueError saying why the row cannot be taken."""
    if not row["opportunity_id"]:
        raise ValueError("opportunity_id is empty")
    _fit(Opportunity, "external_id", "opportunity_id", row["opportunity_id"])
    _fit(Opportunity, "product", "product", row["product"])
    if row["sales_agent"] not in reps:
        raise ValueError(f"sales_agent '{row['sales_agent']}' is not in sales_teams.csv")
    stage = stages.get(row["deal_stage"])
    if stage is None:
        raise ValueError(f"deal_stage '{row['deal_stage']}' is not one of {', '.join(STAGES)}")
    if row["account"] and row["account"] not in customers:
        raise ValueError(f"account '{row['account']}' is not in accounts.csv")
    created, closed = _date(row, "engage_date"), _date(row, "close_date")
    if stage.outcome != Stage.Outcome.OPEN and closed is None:
        raise ValueError(f"a {row['deal_stage']} deal needs a close_date")
    if stage.outcome == Stage.Outcome.OPEN and closed is not None:
        raise ValueError(f"a {row['deal_stage']} deal cannot have a close_date")
    if created and closed and closed < created:
        raise ValueError("close_date is before engage_date")
    if row["close_value"]:
        try:
            amount = _money(row["close_value"])
        except InvalidOperation:
            raise ValueError(_not_an_amount("close_value", row["close_value"])) from None
    elif product_key(row["product"]) in prices:
        amount = prices[product_key(row["product"])]
    else:
        raise ValueError(f"no close_value and product '{row['product']}' is not in products.csv")
    return Opportunity(
        external_id=row["opportunity_id"],
        name=f"{row['product']} – {row['account'] or 'no account'}"[:200],
        rep_id=reps[row["sales_agent"]],
        customer_id=customers.get(row["account"]),
        product=row["product"],
        stage=stage,
        amount=amount,
        created_on=created,
        closed_on=closed,
    )


WRITE_BATCH = 2000


def _import_pipeline(rows, reps, prices, customers, report, progress) -> None:
    stages, deals = _stages(), {}
    for line, row in rows:
        try:
            deal = _pipeline_row(row, reps, prices, customers, stages)
        except ValueError as e:
            report.skip("sales_pipeline.csv", line, str(e))
            continue
        if deal.external_id in deals:
            report.skip("sales_pipeline.csv", line, f"opportunity_id {deal.external_id} appears twice")
            continue
        deals[deal.external_id] = deal
    known = set()  # the deals that exist already: a re-import's changes are the database's to record
    for chunk in _chunks(list(deals)):
        known.update(Opportunity.objects.filter(external_id__in=chunk).values_list("external_id", flat=True))
    fields = ["name", "rep", "customer", "product", "stage", "amount", "created_on", "closed_on"]
    written = 0
    for chunk in _chunks(list(deals.values()), WRITE_BATCH):
        Opportunity.objects.bulk_create(
            chunk, update_conflicts=True, unique_fields=["external_id"], update_fields=fields
        )
        written += len(chunk)
        progress("opportunities", written, len(deals))
    new = {external_id: deal for external_id, deal in deals.items() if external_id not in known}
    states_load(_first_states(new, stages["Engaging"], prices))
    report.counts["opportunities"] = len(deals)


def _first_states(new: dict[str, Opportunity], engaging: Stage, prices) -> list[OpportunityState]:
    """The known past of new deals that the database's one state per new deal does not tell: a
    won or lost deal with an engage date was Engaging from then until its close date, at its
    product's price as an open deal is (a lost deal's close_value is 0), then won or lost. The
    states take when and by whom the database recorded the deal."""
    decided = {
        external_id: deal
        for external_id, deal in new.items()
        if deal.created_on is not None and deal.stage.outcome != Stage.Outcome.OPEN
    }
    states = []
    for chunk in _chunks(list(decided)):
        recorded = OpportunityState.objects.filter(opportunity__external_id__in=chunk).values_list(
            "opportunity_id", "opportunity__external_id", "recorded_at", "recorded_by_id"
        )
        for pk, external_id, recorded_at, recorded_by in recorded:
            deal = decided[external_id]
            closing, opening = day_start(deal.closed_on), prices.get(product_key(deal.product), deal.amount)
            alike = {"opportunity_id": pk, "rep_id": deal.rep_id, "recorded_at": recorded_at}
            alike["recorded_by_id"] = recorded_by
            states += [
                OpportunityState(since=None, until=closing, stage=engaging, amount=opening, **alike),
                OpportunityState(
                    since=closing, stage=deal.stage, amount=deal.amount, closed_on=deal.closed_on, **alike
                ),
            ]
    return states


def _chunks(items: list, size: int = 5000):
    """An `__in` list at a time: SQLite takes only so many parameters in one query."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


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
