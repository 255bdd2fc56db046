"""Import of the public "CRM Sales Opportunities" layout (see DESIGN.md for the mapping).

Every row is checked first; rows that cannot be taken are reported with file, line and reason
and skipped whole. The rest is written in one transaction with bulk upserts keyed on names and
external ids, so a re-import updates and never duplicates, and a failure leaves nothing behind.
"""

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Min
from django.utils.text import slugify

from teams.models import Rep, Team

from .models import Customer, Opportunity, Stage
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


class ImportFailed(Exception):
    """The directory cannot be imported at all (a file or column is missing)."""


@dataclass
class Report:
    skipped: list[str] = field(default_factory=list)  # "file:line: reason"
    counts: dict[str, int] = field(default_factory=dict)

    def skip(self, name, line, reason):
        self.skipped.append(f"{name}:{line}: {reason}")


def product_key(name: str) -> str:
    """Products match ignoring case and spaces: 'GTXPro' is 'GTX Pro'."""
    return re.sub(r"\s+", "", name).lower()


def _read(directory: Path, name: str):
    path = directory / name
    if not path.is_file():
        raise ImportFailed(f"{path}: file not found.")
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = [c for c in FILES[name] if c not in (reader.fieldnames or [])]
            if missing:
                raise ImportFailed(f"{path}: missing column(s) {', '.join(missing)}.")
            return [(reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}) for row in reader]
    except UnicodeDecodeError as e:
        raise ImportFailed(f"{path}: not UTF-8 text ({e.reason} at byte {e.start}).") from None


def _date(value: str) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _money(value: str) -> Decimal:
    amount = Decimal(value)
    if amount < 0 or not amount.is_finite():
        raise InvalidOperation
    return amount.quantize(Decimal("0.01"))


def import_crm(directory, *, recompute=True, progress=print) -> Report:
    """Import a directory; unless told not to, the snapshots are recomputed once it commits."""
    directory = Path(directory)
    data = {name: _read(directory, name) for name in FILES}
    report = Report()
    with transaction.atomic(), bulk_changes(recompute=recompute):
        reps = _import_teams(data["sales_teams.csv"], report)
        progress(f"teams and reps: {len(reps)} reps")
        prices = _prices(data["products.csv"], report)
        customers = _import_accounts(data["accounts.csv"], report)
        progress(f"accounts: {len(customers)} customers")
        _import_pipeline(data["sales_pipeline.csv"], reps, prices, customers, report)
        progress(f"opportunities: {report.counts['opportunities']}")
        _set_acquisition_dates(customers)
    return report


def _users_for(names: set[str]) -> dict[str, int]:
    """A user per person (reps and managers), found again by username on a re-import."""
    User = get_user_model()
    users = {}
    for name in sorted(names):
        first, _, last = name.partition(" ")
        user, created = User.objects.get_or_create(
            username=slugify(name).replace("-", ".")[:150] or "user",
            defaults={"first_name": first[:150], "last_name": last[:150]},
        )
        if created:  # they sign in once an admin gives them a password
            user.set_unusable_password()
            user.save(update_fields=["password"])
        users[name] = user.pk
    return users


def _import_teams(rows, report) -> dict[str, int]:
    agents = {}
    for line, row in rows:
        if not (row["sales_agent"] and row["manager"] and row["regional_office"]):
            report.skip("sales_teams.csv", line, "sales_agent, manager and regional_office are all required")
        elif row["sales_agent"] in agents:
            report.skip("sales_teams.csv", line, f"{row['sales_agent']} is listed twice")
        else:
            agents[row["sales_agent"]] = row
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
    Rep.objects.bulk_create(
        [
            Rep(full_name=name, user_id=users[name], team=teams[row["manager"]])
            for name, row in agents.items()
        ],
        update_conflicts=True,
        unique_fields=["full_name"],
        update_fields=["team"],
    )
    report.counts["reps"] = len(agents)
    return dict(Rep.objects.filter(full_name__in=agents).values_list("full_name", "pk"))


def _prices(rows, report) -> dict[str, Decimal]:
    prices = {}
    for line, row in rows:
        try:
            prices[product_key(row["product"])] = _money(row["sales_price"])
        except InvalidOperation:
            report.skip("products.csv", line, f"sales_price '{row['sales_price']}' is not an amount")
    return prices


def _import_accounts(rows, report) -> dict[str, int]:
    accounts = {}
    for line, row in rows:
        if not row["account"]:
            report.skip("accounts.csv", line, "account name is empty")
            continue
        numbers = {}
        for column, cast in [("year_established", int), ("employees", int), ("revenue", Decimal)]:
            try:
                numbers[column] = cast(row[column]) if row.get(column) else None
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
    if row["sales_agent"] not in reps:
        raise ValueError(f"sales_agent '{row['sales_agent']}' is not in sales_teams.csv")
    stage = stages.get(row["deal_stage"])
    if stage is None:
        raise ValueError(f"deal_stage '{row['deal_stage']}' is not one of {', '.join(STAGES)}")
    if row["account"] and row["account"] not in customers:
        raise ValueError(f"account '{row['account']}' is not in accounts.csv")
    try:
        created, closed = _date(row["engage_date"]), _date(row["close_date"])
    except ValueError:
        raise ValueError(
            f"dates must be YYYY-MM-DD, not '{row['engage_date']}' / '{row['close_date']}'"
        ) from None
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
            raise ValueError(f"close_value '{row['close_value']}' is not an amount") from None
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


def _import_pipeline(rows, reps, prices, customers, report) -> None:
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
    fields = ["name", "rep", "customer", "product", "stage", "amount", "created_on", "closed_on"]
    Opportunity.objects.bulk_create(
        deals.values(),
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["external_id"],
        update_fields=fields,
    )
    report.counts["opportunities"] = len(deals)


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
