"""What a figure is about: a rep, a team (with everything below it) or the company.

`Scope` is the kind, `Subject` the thing itself. A Subject is a plain (scope, pk) pair, so it is
hashable, sorts, and compares equal to the tuple ("rep", 3): engine tables, snapshot keys and
pages use the one type. The company is the single subject of its scope, with pk 0.
"""

from typing import NamedTuple

from django.db import models

from .models import Rep, Team


class Scope(models.TextChoices):
    REP = "rep"
    TEAM = "team"
    COMPANY = "company"


class Subject(NamedTuple):
    scope: Scope
    pk: int

    @classmethod
    def rep(cls, pk: int) -> "Subject":
        return cls(Scope.REP, pk)

    @classmethod
    def team(cls, pk: int) -> "Subject":
        return cls(Scope.TEAM, pk)

    def __str__(self) -> str:
        return f"{self.scope}:{self.pk}"


COMPANY = Subject(Scope.COMPANY, 0)


def subject_name(subject: Subject) -> str:
    """How pages and messages name a subject: the rep's full name, the team's name, "Company".

    (CSV files and the API name the company `all`: an identifier, not a display name.)"""
    if subject.scope == Scope.REP:
        names = Rep.objects.filter(pk=subject.pk).values_list("full_name", flat=True)
    elif subject.scope == Scope.TEAM:
        names = Team.objects.filter(pk=subject.pk).values_list("name", flat=True)
    else:
        return "Company"
    return names.first() or f"{subject.scope} {subject.pk}"
