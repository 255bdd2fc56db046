"""The facts salesperf measures, and the snapshots it computes from them."""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from teams.models import Rep, Team
from teams.querysets import VisibleQuerySet
from teams.subjects import Scope

from .fields import FigureState, MoneyField, PeriodKind
from .periods import FIRST_YEAR, LAST_YEAR, in_range


def today():
    return timezone.localdate()


class DatesInRange:
    """Validation (forms, admin, API) refuses a date or time outside the years salesperf works in
    (kpis.periods.FIRST_YEAR to LAST_YEAR): one fact dated in year 1 would make every recompute
    span twenty centuries."""

    def clean_fields(self, exclude=None):
        errors = {}
        try:
            super().clean_fields(exclude)
        except ValidationError as e:
            errors = e.update_error_dict(errors)
        for field in self._meta.concrete_fields:
            if field.generated:  # computed by the database from fields checked here
                continue
            value = getattr(self, field.attname)
            if (
                isinstance(value, dt.date)  # datetimes too
                and field.name not in errors
                and field.name not in (exclude or ())
                and not in_range(value)
            ):
                errors[field.name] = [f"Give a date from {FIRST_YEAR} to {LAST_YEAR}."]
        if errors:
            raise ValidationError(errors)


class ThroughRep(VisibleQuerySet):
    """A fact is seen by whoever sees its rep."""

    rep_lookup = "rep_id"


class CustomerQuerySet(VisibleQuerySet):
    """A customer is seen through its owner; an unowned one by admins only."""

    rep_lookup = "owner_id"


class ThroughOpportunity(VisibleQuerySet):
    """A deal's history is seen by whoever sees the deal (its current owner's)."""

    rep_lookup = "opportunity__rep_id"


class NpsResponseQuerySet(VisibleQuerySet):
    """A response is seen through its customer's owner."""

    rep_lookup = "customer__owner_id"


class ThroughRepOrTeam(VisibleQuerySet):
    """Seen through the rep or the team it names; one naming neither (the company's) by admins only."""

    rep_lookup = "rep_id"
    team_lookup = "team_id"


class Customer(DatesInRange, models.Model):
    external_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    name = models.CharField(max_length=200)
    owner = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers")
    sector = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = MoneyField(null=True, blank=True, help_text="Millions, as the source gives it.")
    year_established = models.PositiveSmallIntegerField(null=True, blank=True)
    subsidiary_of = models.CharField(max_length=200, blank=True)
    acquired_on = models.DateField(null=True, blank=True, help_text="Became a customer.")
    churned_on = models.DateField(null=True, blank=True, help_text="Stopped being a customer.")

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["name"]),
            models.Index(fields=["owner", "acquired_on"]),
            models.Index(fields=["owner", "churned_on"]),
            # The first and last day with data (kpis.engine.read.data_range) without a full scan.
            models.Index(fields=["acquired_on"]),
            models.Index(fields=["churned_on"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(churned_on__isnull=True)
                | Q(acquired_on__isnull=False, churned_on__gte=F("acquired_on")),
                name="customer_churned_after_acquired",
            ),
        ]

    def __str__(self):
        return self.name


class Lead(DatesInRange, models.Model):
    external_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    name = models.CharField(max_length=200)
    rep = models.ForeignKey(Rep, on_delete=models.PROTECT, related_name="leads")
    source = models.CharField(max_length=50, blank=True)
    created_on = models.DateField()
    converted_on = models.DateField(null=True, blank=True)
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        help_text="The customer this lead became.",
    )

    objects = ThroughRep.as_manager()

    class Meta:
        ordering = ["-created_on"]
        indexes = [models.Index(fields=["rep", "created_on"]), models.Index(fields=["created_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(converted_on__isnull=True) | Q(converted_on__gte=F("created_on")),
                name="lead_converted_after_created",
            ),
        ]

    def __str__(self):
        return self.name


class StageQuerySet(models.QuerySet):
    def visible_to(self, user, tree=None):
        """Stages are reference data: everyone signed in sees them all."""
        return self.all() if user.is_authenticated else self.none()


class ForecastCategory(models.TextChoices):
    """Where an open deal counts in a forecast (targets.forecast): commit, best case and pipeline
    add up cumulatively, as Salesforce's forecast categories do; omitted never counts."""

    COMMIT = "commit"
    BEST_CASE = "best_case", "best case"
    PIPELINE = "pipeline"
    OMITTED = "omitted"

    @classmethod
    def of_stage(cls, probability, outcome: str) -> "ForecastCategory":
        """A new stage's category unless an admin sets one: a won stage's deals are commit, a lost
        one's omitted; an open stage is commit from a 70 % win probability, best case from 40 %,
        pipeline below (the thresholds of Salesforce's default stage-to-category mapping)."""
        if outcome != "open":
            return cls.COMMIT if outcome == "won" else cls.OMITTED
        if probability >= Decimal("0.7"):
            return cls.COMMIT
        return cls.BEST_CASE if probability >= Decimal("0.4") else cls.PIPELINE


class Stage(models.Model):
    """A pipeline stage; order, win probability and forecast category are data, edited in admin."""

    class Outcome(models.TextChoices):
        OPEN = "open"
        WON = "won"
        LOST = "lost"

    name = models.CharField(max_length=50, unique=True)
    order = models.PositiveSmallIntegerField(default=0)
    probability = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Chance of winning a deal in this stage, 0 to 1.",
    )
    outcome = models.CharField(max_length=4, choices=Outcome.choices, default=Outcome.OPEN)
    forecast_category = models.CharField(
        max_length=9,
        choices=ForecastCategory.choices,
        blank=True,
        help_text="The forecast category of its deals unless a rep sets one for a deal; "
        "empty: from its probability (70 % commit, 40 % best case, else pipeline).",
    )

    objects = StageQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__gte=0, probability__lte=1), name="stage_probability_0_1"
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.forecast_category:
            self.forecast_category = ForecastCategory.of_stage(self.probability, self.outcome)
        super().save(*args, **kwargs)


class Opportunity(DatesInRange, models.Model):
    external_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    name = models.CharField(max_length=200, blank=True)
    rep = models.ForeignKey(Rep, on_delete=models.PROTECT, related_name="opportunities")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    product = models.CharField(max_length=100, blank=True)
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="opportunities")
    amount = MoneyField()
    created_on = models.DateField(null=True, blank=True, help_text="Engaged on.")
    closed_on = models.DateField(
        null=True, blank=True, help_text="Won or lost on: set exactly when the stage is won or lost."
    )
    expected_close_on = models.DateField(
        null=True, blank=True, help_text="The day the rep expects to close it (open deals)."
    )
    forecast_category = models.CharField(
        max_length=9,
        choices=ForecastCategory.choices,
        blank=True,
        db_default="",  # bulk loads (the seed's COPY) name only the columns they know
        help_text="Set by the rep; empty: its stage's forecast category.",
    )
    recorded_on = models.DateField(
        default=today, editable=False, help_text="The day salesperf first recorded the deal."
    )
    # The day the deal entered the pipeline: its created date, or where that is unknown the day it
    # was first recorded — never "always" (an undated deal would swell every past month-end) — or
    # its close date if that came first (a closed deal recorded later was never seen open).
    opened_on = models.GeneratedField(
        expression=Coalesce("created_on", Least("recorded_on", "closed_on"), "recorded_on"),
        output_field=models.DateField(),
        db_persist=True,
    )

    objects = ThroughRep.as_manager()

    class Meta:
        ordering = ["-created_on"]
        verbose_name_plural = "opportunities"
        indexes = [
            models.Index(fields=["rep", "closed_on"]),
            models.Index(fields=["rep", "opened_on"]),
            models.Index(fields=["opened_on"]),
            models.Index(fields=["customer", "closed_on"]),
            models.Index(fields=["closed_on"]),
            # The open deals (no close date: PostgreSQL's trigger checks it) by rep, for the forecast's
            # roll-up: a tenth of the deals, instead of every deal of a team's reps.
            models.Index(fields=["rep"], condition=Q(closed_on__isnull=True), name="opportunity_open_by_rep"),
            # The admin's newest-first list, without sorting a million rows.
            models.Index(F("created_on").desc(), F("id").desc(), name="opportunity_newest_first"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="opportunity_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(created_on__isnull=True)
                | Q(closed_on__isnull=True)
                | Q(closed_on__gte=F("created_on")),
                name="opportunity_closed_after_created",
                violation_error_message="The close date is before the creation date.",
            ),
        ]

    def __str__(self):
        return self.label(self.pk, self.name, self.external_id)

    def save(self, *args, **kwargs):
        cleared = self.follow_stage()
        if cleared and kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], *cleared}
        super().save(*args, **kwargs)

    @staticmethod
    def label(pk, name: str, external_id: str | None) -> str:
        """A deal's name where only its columns were read (a page's list of many deals)."""
        return name or external_id or f"Opportunity {pk}"

    def follow_stage(self) -> list[str]:
        """Clear what the stage rules out, and say which fields (save() and the bulk writes,
        which skip save(), both apply it): reopening a deal clears its close date — an open deal
        has none, the database checks it —, and closing one its forecast category — a closed
        deal counts as won or not at all."""
        if not self.stage_id:
            return []
        is_open = self.stage.outcome == Stage.Outcome.OPEN
        cleared = [
            field
            for field, set_, ruled_out in [
                ("closed_on", self.closed_on is not None, is_open),
                ("forecast_category", bool(self.forecast_category), not is_open),
            ]
            if set_ and ruled_out
        ]
        for field in cleared:
            setattr(self, field, self._meta.get_field(field).get_default())  # None, or "" for a category
        return cleared

    @property
    def effective_forecast_category(self) -> ForecastCategory:
        """Its own category, else its stage's (targets.forecast.EFFECTIVE_CATEGORY in SQL)."""
        own = self.forecast_category or self.stage.forecast_category
        return ForecastCategory(own or ForecastCategory.PIPELINE)

    def clean(self):
        super().clean()
        if self.stage_id and self.stage.outcome != Stage.Outcome.OPEN and self.closed_on is None:
            outcome = self.stage.get_outcome_display()
            raise ValidationError({"closed_on": f"A {outcome} deal needs its close date."})


class OpportunityState(models.Model):
    """An opportunity as it stood from `since` until `until`: its history, one row per change of
    stage, amount, dates or owner, however it was written. The database writes these rows (a
    trigger on the opportunity table, kpis.deal_history), so admin, API, imports and bulk loads
    all leave the same trace; loaders that know a deal's past may replace its first rows
    (deal_history.states_load)."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="states")
    since = models.DateTimeField(null=True, blank=True, help_text="Empty: since the deal was opened.")
    until = models.DateTimeField(null=True, blank=True, help_text="Empty: still.")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    amount = MoneyField()
    closed_on = models.DateField(null=True, blank=True)
    expected_close_on = models.DateField(null=True, blank=True)
    rep = models.ForeignKey(Rep, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ThroughOpportunity.as_manager()

    class Meta:
        ordering = ["opportunity", F("since").asc(nulls_first=True), "recorded_at"]
        # The last day with a change (kpis.engine.read.data_range) without a full scan.
        indexes = [models.Index(fields=["since"])]
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity"], condition=Q(until__isnull=True), name="opportunity_one_current_state"
            ),
            models.CheckConstraint(
                condition=Q(since__isnull=True) | Q(until__isnull=True) | Q(until__gte=F("since")),
                name="opportunity_state_until_after_since",
            ),
        ]

    def __str__(self):
        return f"{self.opportunity_id}: {self.stage_id} {self.amount} from {self.since or 'its opening'}"


class Activity(DatesInRange, models.Model):
    class Kind(models.TextChoices):
        CALL = "call"
        EMAIL = "email"
        MEETING = "meeting"

    external_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    rep = models.ForeignKey(Rep, on_delete=models.PROTECT, related_name="activities")
    kind = models.CharField(max_length=7, choices=Kind.choices)
    occurred_at = models.DateTimeField(help_text="Counted on its date in TIME_ZONE.")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    opportunity = models.ForeignKey(
        Opportunity, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    subject = models.CharField(max_length=200, blank=True)

    objects = ThroughRep.as_manager()

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name_plural = "activities"
        indexes = [models.Index(fields=["rep", "occurred_at"]), models.Index(fields=["occurred_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


class NpsResponse(DatesInRange, models.Model):
    external_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="nps_responses")
    responded_on = models.DateField()
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])
    comment = models.TextField(blank=True)

    objects = NpsResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-responded_on"]
        verbose_name = "NPS response"
        indexes = [models.Index(fields=["customer", "responded_on"]), models.Index(fields=["responded_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=10), name="nps_score_0_10"),
        ]

    def __str__(self):
        return f"{self.score} on {self.responded_on}"


class AcquisitionSpend(DatesInRange, models.Model):
    """Money spent to win customers, charged to a rep, a team, or (neither) the company."""

    external_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    rep = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.PROTECT, related_name="spend")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="spend")
    spent_on = models.DateField()
    amount = MoneyField()
    channel = models.CharField(max_length=50, blank=True)

    objects = ThroughRepOrTeam.as_manager()

    class Meta:
        ordering = ["-spent_on"]
        verbose_name = "acquisition spend"
        verbose_name_plural = "acquisition spend"
        indexes = [models.Index(fields=["spent_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="spend_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(rep__isnull=True) | Q(team__isnull=True), name="spend_rep_or_team"
            ),
        ]

    def __str__(self):
        return f"{self.amount} on {self.spent_on}"


class SubjectQuerySet(ThroughRepOrTeam):
    """Rows about a rep, a team or the company (forecasts, targets): seen through their subject.
    The scope constraint (subject_constraints) makes "names a rep" the same as "scope rep"."""

    def for_subject(self, scope, subject_id):
        return self.filter(
            scope=scope,
            rep_id=subject_id if scope == Scope.REP else None,
            team_id=subject_id if scope == Scope.TEAM else None,
        )


def subject_constraints(prefix):
    """A row names a rep (scope rep), a team (scope team) or neither (scope company)."""
    return [
        models.CheckConstraint(
            condition=Q(scope=Scope.REP, rep__isnull=False, team__isnull=True)
            | Q(scope=Scope.TEAM, rep__isnull=True, team__isnull=False)
            | Q(scope=Scope.COMPANY, rep__isnull=True, team__isnull=True),
            name=f"{prefix}_subject_matches_scope",
        ),
    ]


class ForecastSubmission(DatesInRange, models.Model):
    class Category(models.TextChoices):
        COMMIT = "commit"
        BEST_CASE = "best_case", "best case"

    external_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    scope = models.CharField(max_length=7, choices=Scope.choices)
    rep = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.CASCADE, related_name="forecasts")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="forecasts")
    period_kind = models.CharField(max_length=7, choices=PeriodKind.choices)
    period_start = models.DateField()
    category = models.CharField(max_length=9, choices=Category.choices, default=Category.COMMIT)
    amount = MoneyField()
    # A manager's team number: the roll-up it was made over and the adjustment on top of it
    # (amount = rollup + adjustment); empty for a number typed in whole (a rep's, the API's).
    rollup = MoneyField(null=True, blank=True, help_text="The children's roll-up it was made over.")
    adjustment = MoneyField(null=True, blank=True, help_text="Added to the roll-up (negative: taken off).")
    submitted_at = models.DateTimeField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = SubjectQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["period_kind", "period_start", "category"])]
        constraints = [
            *subject_constraints("forecast"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="forecast_amount_not_negative"),
        ]

    def __str__(self):
        return f"{self.get_category_display()} {self.amount} ({self.period_kind} {self.period_start})"


class SnapshotQuerySet(VisibleQuerySet):
    """A snapshot is seen through its subject; the company's by admins only."""

    def rule(self, sight):
        return Q(scope=Scope.REP, subject_id__in=sight.rep_ids()) | Q(
            scope=Scope.TEAM, subject_id__in=sight.team_ids
        )


class KpiSnapshot(models.Model):
    """One metric of one subject for one period, as last computed. Pages read only these."""

    scope = models.CharField(max_length=7, choices=Scope.choices)
    subject_id = models.PositiveBigIntegerField(help_text="Rep or team id; 0 for the company.")
    metric = models.CharField(max_length=40)
    period_kind = models.CharField(max_length=7, choices=PeriodKind.choices)
    period_start = models.DateField()
    numerator = models.DecimalField(max_digits=24, decimal_places=6)
    denominator = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    value = models.DecimalField(
        max_digits=24, decimal_places=6, null=True, blank=True, help_text="Empty unless final or provisional."
    )
    state = models.CharField(max_length=14, choices=FigureState.choices, default=FigureState.FINAL)
    computed_at = models.DateTimeField()

    objects = SnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["scope", "subject_id", "metric", "period_kind", "period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "subject_id", "metric", "period_kind", "period_start"],
                name="snapshot_unique_key",
            ),
        ]
        indexes = [models.Index(fields=["period_kind", "period_start", "metric"])]

    def __str__(self):
        return f"{self.scope}:{self.subject_id} {self.metric} {self.period_kind} {self.period_start}"


class KpiPart(models.Model):
    """What one stint of a rep (the days it was in one team, under the same teams) was credited
    with, for a period a move splits: the teams above each stint get that part of the rep's
    figure. Kept so that a change to the rep's facts moves each team by the change to its own part
    (kpis.engine.recompute), as a one-team period moves them by the change to the rep's total."""

    rep = models.ForeignKey(Rep, on_delete=models.CASCADE, related_name="+")
    stint_since = models.DateField(help_text="The stint's first day (FROM_THE_START: the rep's first stint).")
    metric = models.CharField(max_length=40)
    period_kind = models.CharField(max_length=7, choices=PeriodKind.choices)
    period_start = models.DateField()
    numerator = models.DecimalField(max_digits=24, decimal_places=6)
    denominator = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)

    FROM_THE_START = dt.date(1, 1, 1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rep", "period_kind", "period_start", "stint_since", "metric"], name="part_unique_key"
            ),
        ]

    def __str__(self):
        return (
            f"rep:{self.rep_id} from {self.stint_since} {self.metric} {self.period_kind} {self.period_start}"
        )


class Job(models.Model):
    """Long work started from a page (an import), run by a Celery worker: who started it, on
    what, how far it got, what went wrong, what it did (kpis.jobs). Kept after it ends."""

    class Kind(models.TextChoices):
        CRM_IMPORT = "crm_import", "CRM import"
        FACTS_IMPORT = "facts_import", "Mapped import"

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    options = models.JSONField(default=dict, blank=True, help_text="What the job was asked to do.")
    state = models.CharField(max_length=9, choices=State.choices, default=State.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True, help_text="Rows refused, or why it failed.")
    result = models.JSONField(default=dict, blank=True, help_text="What it did: counts, changes.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.state})"

    @property
    def file_names(self) -> str:
        return ", ".join(f.name for f in self.files.all())


class JobFile(models.Model):
    """An uploaded file a job reads, kept in the database so that any worker can read it."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=200)
    content = models.BinaryField()

    class Meta:
        ordering = ["pk"]  # as uploaded: a job's files are listed in that order, not the heap's

    def __str__(self):
        return self.name


class ImportMapping(models.Model):
    """How a CSV file of some CRM maps to one kind of fact (kpis.imports): which column holds each
    field, what the file's values of a mapped field (stages, owners ...) are in salesperf, and how
    its dates and amounts are written. Saved under a name and reused (`import_facts --mapping`);
    an unsaved one serves the import page's preview."""

    class Kind(models.TextChoices):
        """The kinds of fact a file may hold: kpis.imports.KINDS has one per value."""

        REPS = "reps"
        CUSTOMERS = "customers"
        LEADS = "leads"
        OPPORTUNITIES = "opportunities"
        ACTIVITIES = "activities"
        NPS = "nps", "NPS responses"
        SPEND = "spend", "Acquisition spend"
        FORECASTS = "forecasts", "Forecast submissions"

    # strftime formats offered; "" is ISO 8601 (2017-03-31, 2017-03-31T14:05).
    DATE_FORMATS = [
        ("", "ISO 8601 (2017-03-31)"),
        ("%Y-%m-%d", "2017-03-31"),
        ("%m/%d/%Y", "03/31/2017 (month first)"),
        ("%d/%m/%Y", "31/03/2017 (day first)"),
        ("%d.%m.%Y", "31.03.2017"),
        ("%Y-%m-%d %H:%M", "2017-03-31 14:05"),
        ("%m/%d/%Y %H:%M", "03/31/2017 14:05"),
        ("%d/%m/%Y %H:%M", "31/03/2017 14:05"),
    ]

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=13, choices=Kind.choices)
    columns = models.JSONField(default=dict, blank=True, help_text="{field: the column's header in the file}")
    values = models.JSONField(
        default=dict, blank=True, help_text="{field: {a value in the file: salesperf's value}}"
    )
    date_format = models.CharField(max_length=20, blank=True, choices=DATE_FORMATS)
    decimal_comma = models.BooleanField(default=False, help_text='Amounts written "1.234,56".')
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self):
        from .imports import mapping_errors  # the kinds' fields; kpis.imports reads this model

        if errors := mapping_errors(self):
            raise ValidationError(errors)
