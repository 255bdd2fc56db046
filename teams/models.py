import datetime as dt

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from .querysets import VisibleQuerySet


class User(AbstractUser):
    """Custom from the first migration, as Django advises for a new project."""


class TeamQuerySet(VisibleQuerySet):
    team_lookup = "pk"


class Team(models.Model):
    """A node of the sales organisation: a region holds teams; the company is the root above all.

    `parent` is where the team sits now; where it sat before is its `placements` (Placement).
    Saving a new parent records a placement from the first day of this month (teams.history)."""

    name = models.CharField(max_length=150, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    manager = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams"
    )

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(parent=models.F("pk")), name="team_not_own_parent"),
        ]

    def __str__(self):
        return self.name

    @transaction.atomic
    def save(self, *args, effective: dt.date | None = None, by=None, **kwargs):
        """Also records where the team sits from `effective` on (default: this month) when its
        parent changed — from a script, admin or the API alike (teams.history.placement_follow)."""
        from .history import placement_follow

        super().save(*args, **kwargs)
        placement_follow(self, effective, by)

    def clean(self):
        node, seen = self.parent, set()
        while node is not None and node.pk not in seen:
            if node.pk == self.pk:
                raise ValidationError({"parent": "A team cannot sit below itself."})
            seen.add(node.pk)
            node = node.parent


class RepQuerySet(VisibleQuerySet):
    def rule(self, sight):
        return sight.own_reps()


class Rep(models.Model):
    """A salesperson: one per user, in one team at a time.

    `team` is the team the rep is in now; which teams they were in, and when, is their
    `memberships` (Membership). Saving a new team records a move from today, or from
    `save(effective=...)` (teams.history)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="rep")
    external_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    full_name = models.CharField(max_length=150, unique=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="reps")

    objects = RepQuerySet.as_manager()

    class Meta:
        ordering = ["full_name"]

    def __str__(self):
        return self.full_name

    @transaction.atomic
    def save(self, *args, effective: dt.date | None = None, by=None, **kwargs):
        """Also records the move, from `effective` on (default: today), when the team changed
        (teams.history.membership_follow); `by`: who moved them."""
        from .history import membership_follow

        super().save(*args, **kwargs)
        membership_follow(self, effective, by)


class Dated(models.Model):
    """A row of history: valid from `since` (None: from the beginning) until the day before
    `until` (None: still), recorded when and by whom. An owner's rows tile time: no overlap, no
    gap (PostgreSQL says so with an exclusion constraint and a deferred trigger, migration
    teams 0002; teams.history, their one writer, on any database)."""

    since = models.DateField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        abstract = True

    @staticmethod
    def tiling(owner: str, name: str) -> list:
        """The constraints every database keeps: one first row and one open row per owner."""
        return [
            models.CheckConstraint(
                condition=models.Q(since__lt=models.F("until")), name=f"{name}_since_before_until"
            ),
            models.UniqueConstraint(
                fields=[owner], condition=models.Q(until__isnull=True), name=f"{name}_one_open"
            ),
            models.UniqueConstraint(
                fields=[owner], condition=models.Q(since__isnull=True), name=f"{name}_one_first"
            ),
        ]

    def span(self) -> str:
        if self.since is None and self.until is None:
            return "always"
        if self.since is None:
            return f"until {self.until - dt.timedelta(days=1)}"
        return f"from {self.since}" + (f" to {self.until - dt.timedelta(days=1)}" if self.until else "")


class Membership(Dated):
    """A rep in a team, for a span of days."""

    rep = models.ForeignKey(Rep, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="memberships")

    class Meta:
        ordering = ["rep", models.F("since").asc(nulls_first=True)]
        constraints = Dated.tiling("rep", "membership")

    def __str__(self):
        return f"{self.rep} in {self.team} {self.span()}"


class Placement(Dated):
    """A team under `parent` (None: top level), from the first day of a month; no date has a
    cycle."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="placements")
    parent = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["team", models.F("since").asc(nulls_first=True)]
        constraints = [
            *Dated.tiling("team", "placement"),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("team")), name="placement_not_own_parent"
            ),
        ]

    def __str__(self):
        return f"{self.team} under {self.parent or 'the company'} {self.span()}"
