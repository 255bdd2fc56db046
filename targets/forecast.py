"""The forecast roll-up: for a subject and period, each level's quota, closed revenue and open
deals by forecast category, with the submissions made for it (docs/metrics.md, "Forecast roll-up").

Reads only: seven queries however big the team (the tree, team names, reps, the open deals
grouped by rep and category, the revenue_won and forecast accuracy and bias
snapshots, revenue_won targets, submissions). The columns add up as Salesforce's do: commit =
closed + commit deals, best case = commit + best-case deals, pipeline = best case + pipeline
deals; omitted deals never count.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from kpis.models import ForecastCategory, ForecastSubmission, KpiSnapshot, Opportunity, Stage
from kpis.periods import Period
from kpis.selectors import NO_FIGURE, Figure, snapshot_figures
from teams.models import Rep, Team
from teams.subjects import COMPANY, Scope, Subject
from teams.tree import TeamTree

from .models import Target
from .selectors import load_plan

ZERO = Decimal(0)
LAST_WEEK = dt.timedelta(days=7)
FORECAST_FIGURES = ("forecast_accuracy", "forecast_bias")
OPEN_CATEGORIES = (ForecastCategory.COMMIT, ForecastCategory.BEST_CASE, ForecastCategory.PIPELINE)
# A deal's category: its own, else its stage's (a stage bulk-created without one: pipeline).
EFFECTIVE_CATEGORY = Coalesce(
    NullIf("forecast_category", Value("")),
    NullIf("stage__forecast_category", Value("")),
    Value(ForecastCategory.PIPELINE.value),
)


@dataclass
class Line:
    """One level of the roll-up: a rep, a team (everything below it now) or the company."""

    subject: Subject
    name: str
    quota: Decimal | None = None  # the revenue_won target: own, or its months' or reps' sum
    closed: Decimal | None = None  # revenue_won snapshot; None: not computed
    deals: dict = field(default_factory=lambda: dict.fromkeys(OPEN_CATEGORIES, ZERO))
    no_close_date: int = 0  # open deals without an expected close date: in no category
    submission: ForecastSubmission | None = None  # the latest commit for the period
    week_ago: ForecastSubmission | None = None  # the latest one as it stood 7 days ago
    accuracy: Figure = NO_FIGURE  # forecast_accuracy's snapshot: the commit made before the period
    bias: Figure = NO_FIGURE  # forecast_bias's: signed, positive over-forecast
    children: list["Line"] = field(default_factory=list)

    def _on_closed(self, *categories) -> Decimal | None:
        if self.closed is None:
            return None
        return self.closed + sum((self.deals[c] for c in categories), ZERO)

    @property
    def commit(self):
        return self._on_closed(ForecastCategory.COMMIT)

    @property
    def best_case(self):
        return self._on_closed(ForecastCategory.COMMIT, ForecastCategory.BEST_CASE)

    @property
    def pipeline(self):
        return self._on_closed(*OPEN_CATEGORIES)

    @property
    def gap(self) -> Decimal | None:
        """quota − commit: what the commit still falls short by (negative: over quota)."""
        return None if self.quota is None or self.commit is None else self.quota - self.commit

    @property
    def coverage(self) -> Decimal | None:
        """(pipeline − closed) / (quota − closed): open pipeline over what is left to win;
        undefined with nothing left to win."""
        if self.quota is None or self.closed is None or self.quota - self.closed <= 0:
            return None
        return (self.pipeline - self.closed) / (self.quota - self.closed)

    @property
    def change(self) -> Decimal | None:
        """The latest submission less the latest one as it stood a week ago."""
        if self.submission is None or self.week_ago is None:
            return None
        return self.submission.amount - self.week_ago.amount

    @property
    def submitted_or_commit(self) -> Decimal | None:
        """What this level contributes to its parent's roll-up: its latest submission, or where
        it made none its deal-based commit."""
        return self.submission.amount if self.submission is not None else self.commit

    @property
    def rollup(self) -> Decimal | None:
        """Σ of the children's latest submissions (a child without one: its commit); None for a
        rep, or while a child's commit is undefined."""
        values = [c.submitted_or_commit for c in self.children]
        if not values or None in values:
            return None
        return sum(values, ZERO)


@dataclass(frozen=True)
class Forecast:
    subject: Subject
    period: Period
    total: Line  # the subject's own line; its children are total.children

    @property
    def lines(self) -> list[Line]:
        return [*self.total.children, self.total]


def forecast_rollup(*, user, subject: Subject, period: Period, now: dt.datetime) -> Forecast:
    """The roll-up of `subject` (one `user` may see: kpis.pages.get_subject_for_user) for `period`:
    its line and, for a team, one per child (its reps and child teams); the company's children
    are the top-level teams. Open deals count for the team their rep is in now."""
    tree = TeamTree.load()
    reps = Rep.objects.visible_to(user, tree)
    if subject.scope == Scope.REP:
        reps = reps.filter(pk=subject.pk)
    elif subject.scope == Scope.TEAM:
        reps = reps.filter(team_id__in=tree.subtree_ids([subject.pk]))
    rows = reps.order_by().values_list("pk", "team_id", "full_name")
    rep_team = {pk: (team, name) for pk, team, name in rows}
    total = _lines(subject, tree, rep_team)
    lines = {line.subject: line for line in [*total.children, total]}

    _add_deals(lines, user, tree, period, rep_team, total)
    figures = snapshot_figures(
        KpiSnapshot.objects.visible_to(user, tree),
        [(s.scope, s.pk, metric, period) for s in lines for metric in ("revenue_won", *FORECAST_FIGURES)],
    )
    plan = load_plan(
        Target.objects.visible_to(user, tree),
        periods={"revenue_won": [period]},
        tree=tree,
        rep_team={pk: team for pk, (team, _) in rep_team.items()},
        subjects=list(lines),
    )
    for s, line in lines.items():
        line.accuracy, line.bias = (
            figures.get((s.scope, s.pk, m, period), NO_FIGURE) for m in FORECAST_FIGURES
        )
        figure = figures.get((s.scope, s.pk, "revenue_won", period))
        if figure is not None and figure.value is not None:
            line.closed = figure.value
        elif period.start > timezone.localdate(now):  # nothing can have closed in a period to come
            line.closed = ZERO
        planned = plan.of(s, "revenue_won", period)
        line.quota = planned.value if planned is not None else None
    _add_submissions(lines, user, tree, period, now)
    return Forecast(subject=subject, period=period, total=total)


def _lines(subject: Subject, tree: TeamTree, rep_team: dict) -> Line:
    """The subject's line with its children's, named (one query for the team names)."""
    if subject.scope == Scope.REP:
        return Line(subject, rep_team[subject.pk][1] if subject.pk in rep_team else "")
    kids = tree.roots() if subject == COMPANY else tree.children().get(subject.pk, [])
    names = dict(Team.objects.filter(pk__in=[*kids, subject.pk]).values_list("pk", "name"))
    teams = sorted((Line(Subject.team(t), names[t]) for t in kids), key=lambda line: line.name)
    own_reps = [] if subject == COMPANY else [pk for pk, (team, _) in rep_team.items() if team == subject.pk]
    members = sorted((Line(Subject.rep(r), rep_team[r][1]) for r in own_reps), key=lambda line: line.name)
    name = "Company" if subject == COMPANY else names[subject.pk]
    return Line(subject, name, children=[*teams, *members])


def _add_deals(lines, user, tree, period: Period, rep_team: dict, total: Line) -> None:
    """Open deals of the reps, by rep and effective category, added to every line above them."""
    rows = (
        Opportunity.objects.visible_to(user, tree)
        # The open stages are the rule. An open deal also has no close date (PostgreSQL's trigger
        # checks it), which lets PostgreSQL read only the open deals, by rep (index
        # opportunity_open_by_rep), not a team's every deal (125 reps: 125k deals, 14k open).
        .filter(rep_id__in=list(rep_team), stage__outcome=Stage.Outcome.OPEN, closed_on__isnull=True)
        .annotate(category=EFFECTIVE_CATEGORY)
        .values("rep_id", "category")
        .order_by()
        .annotate(
            amount=Sum("amount", filter=Q(expected_close_on__range=(period.start, period.end))),
            undated=Count("pk", filter=Q(expected_close_on__isnull=True)),
        )
    )
    for row in rows:
        team = rep_team[row["rep_id"]][0]
        above = {total.subject, Subject.rep(row["rep_id"]), *(Subject.team(t) for t in tree.ancestors(team))}
        for line in (lines[s] for s in above if s in lines):
            line.no_close_date += row["undated"]
            if row["category"] in line.deals and row["amount"]:
                line.deals[row["category"]] += row["amount"]


def _add_submissions(lines, user, tree, period: Period, now: dt.datetime) -> None:
    """Each line's latest commit for the period, and the latest as it stood a week ago."""
    subjects = Q(scope=Scope.REP, rep_id__in=[s.pk for s in lines if s.scope == Scope.REP]) | Q(
        scope=Scope.TEAM, team_id__in=[s.pk for s in lines if s.scope == Scope.TEAM]
    )
    if COMPANY in lines:
        subjects |= Q(scope=Scope.COMPANY)
    found = (
        ForecastSubmission.objects.visible_to(user, tree)
        .filter(subjects, period_kind=period.kind, period_start=period.start)
        .filter(category=ForecastSubmission.Category.COMMIT, submitted_at__lte=now)
        .select_related("submitted_by")
        .order_by("submitted_at", "pk")
    )
    by_subject = defaultdict(list)
    for submission in found:
        by_subject[Subject(submission.scope, submission.rep_id or submission.team_id or 0)].append(submission)
    for s, line in lines.items():
        made = by_subject.get(s, [])
        line.submission = made[-1] if made else None
        earlier = [m for m in made if m.submitted_at <= now - LAST_WEEK]
        line.week_ago = earlier[-1] if earlier else None
