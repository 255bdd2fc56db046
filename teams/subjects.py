"""What a figure is about: a rep, a team (with everything below it) or the company.

`Scope` is the kind, `Subject` the thing itself. A Subject is a plain (scope, pk) pair, so it is
hashable, sorts, and compares equal to the tuple ("rep", 3): engine tables, snapshot keys and
pages use the one type. The company is the single subject of its scope, with pk 0.
"""

from typing import NamedTuple

from django.db import models


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
