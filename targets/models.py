from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from kpis.fields import PeriodKind, Scope
from kpis.models import SubjectQuerySet, subject_constraints
from teams.models import Rep, Team


class Target(models.Model):
    """What a subject should reach on one metric in one period. Every change is kept."""

    scope = models.CharField(max_length=7, choices=Scope.choices)
    rep = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.CASCADE, related_name="targets")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField(max_length=40)
    period_kind = models.CharField(max_length=7, choices=PeriodKind.choices)
    period_start = models.DateField()
    value = models.DecimalField(max_digits=20, decimal_places=6)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = SubjectQuerySet.as_manager()
    history = HistoricalRecords()

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
        ]

    def __str__(self):
        return f"{self.metric} {self.period_kind} {self.period_start}: {self.value}"
