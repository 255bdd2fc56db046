from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from kpis.fields import PeriodKind
from kpis.models import SubjectQuerySet, subject_constraints
from kpis.periods import Period, period_starts
from teams.models import Rep, Team
from teams.querysets import VisibleQuerySet
from teams.subjects import Scope, Subject


class TargetQuerySet(SubjectQuerySet):
    def stale(self):
        """Targets of periods FISCAL_YEAR_START_MONTH no longer makes (it was changed since)."""
        return self.exclude(self._tracked())

    @staticmethod
    def _tracked() -> Q:
        baseline = Q(baseline_start__isnull=True) | period_starts(start="baseline_start")
        return period_starts() & baseline


class TrackedTargets(models.Manager.from_queryset(TargetQuerySet)):
    """Pages, API, exports and alerts see only targets of periods that exist under the current
    fiscal year setting; the others are reported (targets list, recompute_kpis) and kept for an
    admin to re-set or delete (`Target.every`), never a crash."""

    def get_queryset(self):
        return super().get_queryset().filter(TargetQuerySet._tracked())


class Target(models.Model):
    """What a subject should reach on one metric in one period. Every change is kept.

    A relative target ("Q3 = Q2 actual + 10%") keeps its baseline period and uplift; its value is
    computed from the baseline snapshot when it is set, and shown next to them.
    """

    class Status(models.TextChoices):
        """targets.progress's statuses: where the period is, then how the subject is doing."""

        NOT_STARTED = "not_started", "not started"
        TOO_EARLY = "too_early", "too early to tell"
        NO_DATA = "no_data", "no data yet"
        ON_TRACK = "on_track", "on track"
        AT_RISK = "at_risk", "at risk"
        BEHIND = "behind"
        HIT = "hit"
        MISSED = "missed"

    scope = models.CharField(max_length=7, choices=Scope.choices)
    rep = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.CASCADE, related_name="targets")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField(max_length=40)
    period_kind = models.CharField(max_length=7, choices=PeriodKind.choices)
    period_start = models.DateField()
    value = models.DecimalField(max_digits=20, decimal_places=6)
    baseline_start = models.DateField(
        null=True, blank=True, help_text="Relative target: the baseline period (same kind) it grows from."
    )
    uplift_pct = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Relative target: +10 means 10% over the baseline.",
    )
    provisional = models.BooleanField(
        default=False,
        help_text="Relative target whose baseline period is still running: its value follows the "
        "baseline daily and is frozen when the baseline ends.",
    )
    last_status = models.CharField(
        max_length=12, choices=Status.choices, blank=True, help_text="As of the last daily check (alerts)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = TrackedTargets()
    every = TargetQuerySet.as_manager()  # the stale ones too: the admin's
    history = HistoricalRecords(excluded_fields=["last_status", "updated_at"])

    class Meta:
        ordering = ["period_start", "metric"]
        constraints = [
            *subject_constraints("target"),
            models.UniqueConstraint(
                fields=["rep", "metric", "period_kind", "period_start"],
                condition=Q(scope=Scope.REP),
                name="target_unique_per_rep",
            ),
            models.UniqueConstraint(
                fields=["team", "metric", "period_kind", "period_start"],
                condition=Q(scope=Scope.TEAM),
                name="target_unique_per_team",
            ),
            models.UniqueConstraint(
                fields=["metric", "period_kind", "period_start"],
                condition=Q(scope=Scope.COMPANY),
                name="target_unique_per_company",
            ),
            models.CheckConstraint(
                condition=Q(baseline_start__isnull=True, uplift_pct__isnull=True)
                | Q(baseline_start__isnull=False, uplift_pct__isnull=False),
                name="target_relative_has_baseline_and_uplift",
            ),
        ]

    def __str__(self):
        from kpis.templatetags.kpis_tags import kpi  # formatting, not a dependency of the model

        return f"{self.metric} {self.period_label}: {kpi(self.value, self.metric)}"

    @property
    def period(self) -> Period:
        return Period.from_start(self.period_kind, self.period_start)

    @property
    def period_label(self) -> str:
        """The period's label, or for a stale target (Target.every) what it was keyed to."""
        try:
            return self.period.label
        except ValueError:
            return f"{self.get_period_kind_display()} from {self.period_start:%Y-%m-%d} (not a period now)"

    @property
    def subject(self) -> Subject:
        return Subject(Scope(self.scope), self.rep_id or self.team_id or 0)

    @property
    def is_relative(self) -> bool:
        return self.baseline_start is not None

    @property
    def baseline_label(self) -> str:
        """The baseline period as its kind names it (2026-Q3, not a month)."""
        return Period.from_start(self.period_kind, self.baseline_start).label if self.is_relative else ""


class NotificationQuerySet(VisibleQuerySet):
    def rule(self, sight):
        """A notification is its recipient's (and admins')."""
        return Q(user_id=sight.user_id)


class Notification(models.Model):
    """An in-app message, e.g. a target that has just fallen behind."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    target = models.ForeignKey(Target, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self):
        return self.message


class AlertSettings(models.Model):
    """What a user wants to be told. Without a row, everything is on (the defaults)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_settings"
    )
    behind = models.BooleanField("tell me when a target turns behind", default=True)
    hit = models.BooleanField("tell me when a target is hit", default=True)
    email = models.BooleanField("send my alerts by e-mail too", default=True)
    weekly_digest = models.BooleanField(
        "send me the weekly digest",
        default=True,
        help_text="Managers: a Monday e-mail of who is behind and the week's alerts.",
    )
    # The day the last digest went out: a task delivered twice, or retried, sends it once.
    digest_sent_on = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name_plural = "alert settings"

    def __str__(self):
        return f"alert settings of {self.user}"

    @classmethod
    def of(cls, users) -> dict:
        """{user id: AlertSettings} for `users`, the defaults for those without a row; one query."""
        ids = [u.pk for u in users]
        found = {s.user_id: s for s in cls.objects.filter(user_id__in=ids)}
        return {pk: found.get(pk) or cls(user_id=pk) for pk in ids}

    def wants(self, status: str) -> bool:
        return {Target.Status.BEHIND: self.behind, Target.Status.HIT: self.hit}.get(status, False)
