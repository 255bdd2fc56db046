"""A world of distinctive data, so that a response can be searched for what it must not show.

On the `org` of tests/conftest.py (region → east: alice, bob; west: carol) every rep gets a
name, a customer, a won deal, a lead, a call, an NPS comment, spend, a forecast and a target that
appear nowhere else; every team a name; the teams and the company a revenue total and a target.
All figures are six digits that no other figure contains, so finding "731337" or "731,337" in a
response means Carol's deal is in it.
"""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from kpis import engine, signals
from kpis.jobs import job_draft
from kpis.models import (
    AcquisitionSpend,
    Activity,
    Customer,
    ForecastSubmission,
    Job,
    Lead,
    NpsResponse,
    Opportunity,
)
from targets.models import Target
from teams.models import Rep, Team
from tests.factories import won_stage

ROLES = ["anonymous", "rep", "other_rep", "manager", "other_manager", "admin"]

# The rule, restated independently of teams.visibility: the subjects each role may see.
SEES = {
    "anonymous": set(),
    "rep": {"alice"},
    "other_rep": {"carol"},
    "manager": {"alice", "bob", "east"},
    "other_manager": {"carol", "west"},
    "admin": {"alice", "bob", "carol", "east", "west", "region", "company"},
}
# A rep's pages may name the rep's own team.
MAY_READ = {**SEES, "rep": SEES["rep"] | {"east"}, "other_rep": SEES["other_rep"] | {"west"}}


def seers(*subjects) -> frozenset:
    """The roles that may see every one of `subjects`."""
    return frozenset(role for role, seen in SEES.items() if set(subjects) <= seen)


SIGNED_IN = frozenset(ROLES) - {"anonymous"}
MANAGERS = frozenset({"manager", "other_manager", "admin"})
ADMINS = frozenset({"admin"})

PERIOD = "2017-02"  # the month every fact below falls in


def money(amount: int) -> list[str]:
    """How an amount may be written: in the API and CSV files (731337.00), on pages (731,337)."""
    return [str(amount), f"{amount:,}"]


# Each rep's facts: (name, username, customer, amount of the won deal, target, forecast, spend).
REPS = {
    "alice": ("Alice Arkwright", "alice.arkwright", "Aldermoor Freight", 418273, 614207, 313579, 441793),
    "bob": ("Bob Brennan", "bob.brennan", "Brackwater Mills", 529164, 622919, 324681, 452861),
    "carol": ("Carol Castellan", "carol.castellan", "Caldera Optics", 731337, 683441, 357911, 463957),
}
# Who each role is: their username on the `org` fixture, once `world` has renamed the reps.
USERS = {
    "rep": REPS["alice"][1],
    "other_rep": REPS["carol"][1],
    "manager": "east_manager",
    "other_manager": "west_manager",
    "admin": "admin",
}
TEAMS = {
    # (name, its reps, target)
    "region": ("Regnum Holdings", ("alice", "bob", "carol"), 862519),
    "east": ("Eastmarch", ("alice", "bob"), 874213),
    "west": ("Westreach", ("carol",), 886327),
}
COMPANY_TARGET = 895471


def revenue(reps) -> int:
    return sum(REPS[rep][3] for rep in reps)


@pytest.fixture
def world(org):
    """The org with every rep's and team's distinctive facts, snapshots computed.

    world.markers[subject] lists the strings that only those who may see `subject` may read;
    world.targets[subject] is that subject's revenue target for PERIOD; world.job a finished
    preview of a CRM import (an admin's); world.draft an upload to the mapped import awaiting its
    mapping, world.refused a mapped import that kept its refused rows as a CSV file."""
    with signals.bulk_changes(recompute=False):
        markers, targets = _plant(org)
    engine.recompute_all()
    job = Job.objects.create(kind=Job.Kind.CRM_IMPORT, state=Job.State.SUCCEEDED, result={"preview": True})
    draft = job_draft(
        kind=Job.Kind.FACTS_IMPORT,
        user=org.admin,
        files={"deals.csv": b"Record ID,Deal Name,Amount\nHS-1,Deal,100\n"},
        options={
            "kind": "opportunities",
            "file": "deals.csv",
            "saved": None,
            "table": {"header": ["Record ID", "Deal Name", "Amount"], "encoding": "UTF-8", "rows": 1},
        },
    )
    refused = Job.objects.create(
        kind=Job.Kind.FACTS_IMPORT, state=Job.State.SUCCEEDED, result={"error_file": "deals.errors.csv"}
    )
    refused.files.create(name="deals.errors.csv", content=b"Record ID,error\nHS-2,line 3: amount: negative\n")
    return SimpleNamespace(org=org, markers=markers, targets=targets, job=job, draft=draft, refused=refused)


def _plant(org):
    won = won_stage()
    markers, targets = {}, {}
    for key, (name, username, customer_name, amount, target, forecast, spend) in REPS.items():
        rep: Rep = getattr(org, key)
        rep.full_name = name
        rep.save()
        rep.user.username = username
        rep.user.save()
        customer = Customer.objects.create(name=customer_name, owner=rep, acquired_on=dt.date(2017, 2, 3))
        Opportunity.objects.create(
            name=f"{customer_name} renewal",
            rep=rep,
            customer=customer,
            stage=won,
            amount=Decimal(amount),
            created_on=dt.date(2017, 1, 9),
            closed_on=dt.date(2017, 2, 14),
        )
        Lead.objects.create(name=f"{customer_name} lead", rep=rep, created_on=dt.date(2017, 2, 6))
        Activity.objects.create(
            rep=rep,
            kind=Activity.Kind.CALL,
            occurred_at=dt.datetime(2017, 2, 7, 10, tzinfo=dt.UTC),
            subject=f"{customer_name} call",
        )
        NpsResponse.objects.create(
            customer=customer, responded_on=dt.date(2017, 2, 20), score=9, comment=f"{customer_name} praise"
        )
        AcquisitionSpend.objects.create(rep=rep, spent_on=dt.date(2017, 2, 1), amount=Decimal(spend))
        ForecastSubmission.objects.create(
            scope="rep",
            rep=rep,
            period_kind="month",
            period_start=dt.date(2017, 3, 1),
            amount=Decimal(forecast),
            submitted_at=dt.datetime(2017, 2, 25, tzinfo=dt.UTC),
        )
        targets[key] = _target(scope="rep", rep=rep, value=target)
        markers[key] = [name, username, customer_name, *money(amount), *money(target), *money(forecast)]
        markers[key] += money(spend)
    for key, (name, reps, target) in TEAMS.items():
        team: Team = getattr(org, key)
        team.name = name
        team.save()
        targets[key] = _target(scope="team", team=team, value=target)
        markers[key] = [name, *money(target), *money(revenue(reps))]
    targets["company"] = _target(scope="company", value=COMPANY_TARGET)
    markers["company"] = [*money(COMPANY_TARGET), *money(revenue(REPS))]
    return markers, targets


def _target(*, value, **subject) -> Target:
    return Target.objects.create(
        metric="revenue_won",
        period_kind="month",
        period_start=dt.date(2017, 2, 1),
        value=Decimal(value),
        **subject,
    )
