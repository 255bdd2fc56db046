from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models

from .querysets import VisibleQuerySet


class User(AbstractUser):
    """Custom from the first migration, as Django advises for a new project."""


class TeamQuerySet(VisibleQuerySet):
    team_lookup = "pk"


class Team(models.Model):
    """A node of the sales organisation: a region holds teams; the company is the root above all."""

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
    """A salesperson: one per user, in one team (the one place the rep → team link lives)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="rep")
    full_name = models.CharField(max_length=150, unique=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="reps")

    objects = RepQuerySet.as_manager()

    class Meta:
        ordering = ["full_name"]

    def __str__(self):
        return self.full_name
