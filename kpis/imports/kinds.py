"""The kinds of fact a file may hold, their fields, and the headers the usual exports give them.

A kind's fields are filled from the file's columns (ImportMapping.columns) and written through the
API's serializer of the kind (kpis.bulk): the single write's validation and scoping. Who may
import a kind is who may write it through the API (kpis.api's `may_write`); forecast submissions,
which the API only appends as their author made them now, are imported by admins only (past
submissions are facts of the past, with their own date).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from rest_framework import serializers

from teams import visibility
from teams.models import Rep, Team
from teams.serializers import BlankIsNullMixin, ModelCleanSerializer, VisibleRelatedField

from ..fields import PeriodKind
from ..models import Activity, ForecastCategory, ForecastSubmission, Stage
from ..periods import Period
from ..serializers import (
    ActivitySerializer,
    CustomerSerializer,
    LeadSerializer,
    NpsResponseSerializer,
    OpportunitySerializer,
    SpendSerializer,
)


class Reads(StrEnum):
    """How a cell is read: a plain value, or a reference to our records (REP, STAGE, TEAM and
    CHOICE take the file's values through the mapping's `values`, or by their names)."""

    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"
    AMOUNT = "amount"
    INTEGER = "integer"
    REP = "rep"
    STAGE = "stage"
    TEAM = "team"
    CHOICE = "choice"
    CUSTOMER = "customer"
    OPPORTUNITY = "opportunity"
    PERIOD = "period"


MAPPED = (Reads.REP, Reads.STAGE, Reads.TEAM, Reads.CHOICE)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    reads: str = Reads.TEXT
    required: bool = False
    help: str = ""
    target: str = ""  # the serializer's field it fills; "" = name
    headers: tuple[str, ...] = ()  # what the usual exports call the column (suggest_columns)
    options: tuple[tuple[str, str], ...] = ()  # a CHOICE's (our value, label)
    creates: bool = False  # a value that names none of ours is created (once confirmed)

    @property
    def maps_values(self) -> bool:
        return self.reads in MAPPED

    @property
    def to(self) -> str:
        return self.target or self.name

    def choices(self) -> list[tuple[str, str]]:
        """What a value of the file may be mapped to: (our value, label)."""
        if self.reads == Reads.REP:
            return [(str(pk), name) for pk, name in Rep.objects.values_list("pk", "full_name")]
        if self.reads == Reads.STAGE:
            return [(str(pk), name) for pk, name in Stage.objects.values_list("pk", "name")]
        if self.reads == Reads.TEAM:
            return [(str(pk), name) for pk, name in Team.objects.values_list("pk", "name")]
        return list(self.options)


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    fields: list[FieldSpec]
    serializer_class: type | None  # None: written by its own module (reps)
    may_import: Callable = field(repr=False, default=visibility.is_manager)

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)


def external_id(*headers):
    return FieldSpec(
        "external_id",
        "External id",
        required=True,
        help="The record's id in your CRM: a re-import updates the record with that id.",
        headers=("Record ID", "ID", *headers),
    )


def owner(*headers, required=True, target="rep"):
    return FieldSpec(
        "owner",
        "Owner",
        Reads.REP,
        required=required,
        help="A rep, by full name, username or e-mail.",
        target=target,
        headers=("Owner", *headers),
    )


def customer(*headers, required=False):
    return FieldSpec(
        "customer",
        "Customer",
        Reads.CUSTOMER,
        required=required,
        help="A customer, by its external id or its name.",
        headers=("Customer", "Company", "Company name", "Account", "Account Name", *headers),
    )


def choices_of(text_choices) -> tuple[tuple[str, str], ...]:
    return tuple((value, str(label)) for value, label in text_choices.choices)


class ForecastImportSerializer(BlankIsNullMixin, ModelCleanSerializer):
    """A forecast submission as it was made: its subject, period, number and when. The API's
    (targets) records only forecasts made now, by their author; an admin's import brings in past
    ones, recorded as submitted by the importer."""

    rep = VisibleRelatedField(Rep, required=False, allow_null=True)
    team = VisibleRelatedField(Team, required=False, allow_null=True)

    class Meta:
        model = ForecastSubmission
        fields = [
            "external_id",
            "scope",
            "rep",
            "team",
            "period_kind",
            "period_start",
            "category",
            "amount",
            "submitted_at",
        ]
        extra_kwargs = {"amount": {"min_value": 0}}

    def validate(self, attrs):
        try:
            Period.from_start(attrs["period_kind"], attrs["period_start"])
        except ValueError as exc:
            raise serializers.ValidationError({"period_start": [str(exc)]}) from None
        return super().validate(attrs)


OPPORTUNITY_STAGE = FieldSpec(
    "stage",
    "Stage",
    Reads.STAGE,
    required=True,
    help="Your stage names mapped to ours; a won or lost deal needs its close date.",
    headers=("Deal Stage", "Stage", "Stage Name", "Pipeline Stage"),
)

# One per ImportMapping.Kind, by its value.
KINDS: dict[str, Kind] = {
    "reps": Kind(
        "reps",
        "Reps",
        [
            external_id("User ID", "Owner ID", "Employee ID", "Rep ID"),
            FieldSpec("full_name", "Full name", required=True, headers=("Name", "Rep", "Owner Name")),
            FieldSpec(
                "email",
                "E-mail",
                help="Finds the rep's user; a new user takes it.",
                headers=("Email", "E-mail", "Email Address", "User Email"),
            ),
            FieldSpec(
                "username",
                "Username",
                help="Finds the rep's user; a new user takes it (else one made from the e-mail or name).",
                headers=("User Name", "Login"),
            ),
            FieldSpec(
                "team",
                "Team",
                Reads.TEAM,
                required=True,
                help="By name: a team that does not exist is created at the top (confirmed in the "
                "preview); a rep whose team changes moves from today.",
                headers=("Team Name", "Sales Team", "Role"),
                creates=True,
            ),
        ],
        None,
        may_import=visibility.is_admin,
    ),
    "customers": Kind(
        "customers",
        "Customers",
        [
            external_id("Account ID", "Company ID", "Customer ID"),
            FieldSpec(
                "name", "Name", required=True, headers=("Company name", "Account Name", "Customer Name")
            ),
            owner("Company owner", "Account Owner", required=False, target="owner"),
            FieldSpec("sector", "Sector", headers=("Industry",)),
            FieldSpec("country", "Country", headers=("Country/Region", "Billing Country")),
            FieldSpec("employees", "Employees", Reads.INTEGER, headers=("Number of Employees",)),
            FieldSpec("annual_revenue", "Annual revenue", Reads.AMOUNT, headers=("Annual Revenue",)),
            FieldSpec("year_established", "Year established", Reads.INTEGER, headers=("Year Founded",)),
            FieldSpec("subsidiary_of", "Subsidiary of", headers=("Parent Company", "Parent Account")),
            FieldSpec(
                "acquired_on", "Acquired on", Reads.DATE, headers=("Became a Customer Date", "Customer Since")
            ),
            FieldSpec("churned_on", "Churned on", Reads.DATE, headers=("Churn Date", "Churned Date")),
        ],
        CustomerSerializer,
    ),
    "leads": Kind(
        "leads",
        "Leads",
        [
            external_id("Lead ID", "Contact ID"),
            FieldSpec("name", "Name", required=True, headers=("Full Name", "Lead Name", "Contact Name")),
            owner("Lead Owner", "Contact owner"),
            FieldSpec("source", "Source", headers=("Lead Source", "Original Source")),
            FieldSpec(
                "created_on", "Created on", Reads.DATE, required=True, headers=("Create Date", "Created Date")
            ),
            FieldSpec(
                "converted_on",
                "Converted on",
                Reads.DATE,
                headers=("Converted Date", "Became a Customer Date"),
            ),
            customer("Converted Account", "Associated Company"),
        ],
        LeadSerializer,
        may_import=visibility.is_active,
    ),
    "opportunities": Kind(
        "opportunities",
        "Opportunities",
        [
            external_id("Opportunity ID", "Deal ID"),
            FieldSpec("name", "Name", headers=("Deal Name", "Opportunity Name")),
            owner("Deal owner", "Opportunity Owner"),
            customer("Associated Company", "Associated Company (Primary)"),
            OPPORTUNITY_STAGE,
            FieldSpec(
                "amount",
                "Amount",
                Reads.AMOUNT,
                required=True,
                headers=("Amount", "Deal Amount", "Total Price"),
            ),
            FieldSpec("created_on", "Created on", Reads.DATE, headers=("Create Date", "Created Date")),
            FieldSpec(
                "closed_on",
                "Close date",
                Reads.DATE,
                help="A won or lost deal's close date. For an open deal it is its expected close "
                "(HubSpot and Salesforce export both in one column) unless that has its own column.",
                headers=("Close Date", "Closed Date"),
            ),
            FieldSpec("expected_close_on", "Expected close", Reads.DATE, headers=("Expected Close Date",)),
            FieldSpec("product", "Product", headers=("Product Name", "Product")),
            FieldSpec(
                "forecast_category",
                "Forecast category",
                Reads.CHOICE,
                help="An open deal's; empty: its stage's.",
                headers=("Forecast Category", "Forecast category"),
                options=choices_of(ForecastCategory),
            ),
        ],
        OpportunitySerializer,
    ),
    "activities": Kind(
        "activities",
        "Activities",
        [
            external_id("Activity ID", "Task ID", "Engagement ID"),
            owner("Assigned To", "Activity assigned to", "Assigned to"),
            FieldSpec(
                "kind",
                "Kind",
                Reads.CHOICE,
                required=True,
                help="Your activity types mapped to call, email or meeting.",
                headers=("Activity Type", "Type", "Task Type", "Engagement Type"),
                options=choices_of(Activity.Kind),
            ),
            FieldSpec(
                "occurred_at",
                "Occurred at",
                Reads.DATETIME,
                required=True,
                help="A date, or a date and time; without an offset, in TIME_ZONE.",
                headers=("Date", "Activity date", "Due Date", "Timestamp", "Created Date"),
            ),
            FieldSpec("subject", "Subject", headers=("Subject", "Title")),
            customer("Associated Company"),
            FieldSpec(
                "opportunity",
                "Opportunity",
                Reads.OPPORTUNITY,
                help="A deal, by its external id.",
                headers=("Opportunity ID", "Deal ID", "Associated Deal"),
            ),
        ],
        ActivitySerializer,
        may_import=visibility.is_active,
    ),
    "nps": Kind(
        "nps",
        "NPS responses",
        [
            external_id("Response ID", "Survey Response ID"),
            customer(required=True),
            FieldSpec(
                "responded_on",
                "Responded on",
                Reads.DATE,
                required=True,
                headers=("Response Date", "Date", "Submitted", "Submitted On"),
            ),
            FieldSpec(
                "score",
                "Score",
                Reads.INTEGER,
                required=True,
                help="0 to 10.",
                headers=("NPS Score", "Rating"),
            ),
            FieldSpec("comment", "Comment", headers=("Feedback", "Comments")),
        ],
        NpsResponseSerializer,
    ),
    "spend": Kind(
        "spend",
        "Acquisition spend",
        [
            external_id("Spend ID", "Expense ID"),
            owner("Rep", required=False),
            FieldSpec(
                "team", "Team", Reads.TEAM, help="Spend of a team; neither rep nor team: the company's."
            ),
            FieldSpec("spent_on", "Spent on", Reads.DATE, required=True, headers=("Date", "Spend Date")),
            FieldSpec("amount", "Amount", Reads.AMOUNT, required=True, headers=("Cost", "Spend")),
            FieldSpec("channel", "Channel", headers=("Campaign", "Source")),
        ],
        SpendSerializer,
    ),
    "forecasts": Kind(
        "forecasts",
        "Forecast submissions",
        [
            external_id("Forecast ID", "Submission ID"),
            owner("Forecast Owner", required=False),
            FieldSpec(
                "team", "Team", Reads.TEAM, help="A team's forecast; neither owner nor team: the company's."
            ),
            FieldSpec(
                "period",
                "Period",
                Reads.PERIOD,
                help="A label: 2026-07, 2026-Q3 or 2026 (fiscal). Or give period kind and start.",
                headers=("Forecast Period", "Quarter"),
            ),
            FieldSpec(
                "period_kind",
                "Period kind",
                Reads.CHOICE,
                headers=("Period type", "Period Kind"),
                help="month, quarter or year, with the period's first day as its start.",
                options=choices_of(PeriodKind),
            ),
            FieldSpec("period_start", "Period start", Reads.DATE, headers=("Start Date",)),
            FieldSpec(
                "category",
                "Category",
                Reads.CHOICE,
                help="commit or best case; empty: commit.",
                headers=("Forecast Category",),
                options=choices_of(ForecastSubmission.Category),
            ),
            FieldSpec("amount", "Amount", Reads.AMOUNT, required=True, headers=("Forecast Amount",)),
            FieldSpec(
                "submitted_at",
                "Submitted at",
                Reads.DATETIME,
                required=True,
                help="When it was made: the latest commit before a period began is what it is judged on.",
                headers=("Submitted", "Submitted On", "Submitted Date", "Created Date"),
            ),
        ],
        ForecastImportSerializer,
        may_import=visibility.is_admin,
    ),
}


def normal(header: str) -> str:
    return re.sub(r"[^0-9a-z]", "", header.casefold())


def suggest_columns(kind: str, header: list[str]) -> dict[str, str]:
    """{field: column} for the fields whose column the header names as the usual exports do
    (case, spaces and punctuation aside); each column suggested once, required fields first."""
    by_normal = {}
    for column in header:
        by_normal.setdefault(normal(column), column)
    fields = sorted(KINDS[kind].fields, key=lambda f: not f.required)
    suggested, taken = {}, set()
    for spec in fields:
        for name in (spec.name, spec.label, *spec.headers):
            column = by_normal.get(normal(name))
            if column is not None and column not in taken:
                suggested[spec.name] = column
                taken.add(column)
                break
    return {spec.name: suggested[spec.name] for spec in KINDS[kind].fields if spec.name in suggested}
