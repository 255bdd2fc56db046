"""What surrounds the deals: forecasts, acquisition spend and targets, derived from what each rep did.

The demo seeds every app, so it sits above them (targets included).
"""

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from kpis.fields import PeriodKind
from kpis.models import AcquisitionSpend, ForecastSubmission
from targets.models import Target
from teams.models import Rep, Team, User
from teams.subjects import Scope

from .names import SPEND_CHANNELS
from .shape import MONTHLY_GROWTH, RepProfile, Window, money

DAY = dt.timedelta(days=1)
COMMIT, BEST_CASE = ForecastSubmission.Category.COMMIT, ForecastSubmission.Category.BEST_CASE
MONTHS_IN = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}
RELATIVE_UPLIFT = Decimal("10")  # percent over the baseline period, for relative targets


@dataclass
class RepStats:
    """What one rep did per window month, kept after their rows are written."""

    rep: Rep
    profile: RepProfile
    won: list[float]
    new_customers: list[int]
    calls: list[int]
    commits: list[float]

    def typical_won(self, window: Window) -> float:
        """Mean revenue won over the rep's finished months (the current one is not over)."""
        months = [self.won[i] for i in range(self.profile.hired, window.current)]
        return sum(months) / len(months) if months else 0.0


@dataclass
class Planned:
    """A rep, a team or the company as the demo plans for it: the reps it covers, who forecasts
    for it and who sets its targets (the one subject type is teams.subjects.Subject)."""

    scope: str
    rep: Rep | None
    team: Team | None
    members: list[RepStats]
    owner: User  # submits its forecasts
    boss: User  # sets its targets


def subjects(*, regions, teams, stats_by_team: dict[int, list[RepStats]], admin: User) -> list[Planned]:
    """Every rep, every team (regions included) and the company."""
    everyone = [s for team in teams for s in stats_by_team.get(team.pk, [])]
    found = [Planned(Scope.REP, s.rep, None, [s], s.rep.user, s.rep.team.manager) for s in everyone]
    found += [
        Planned(Scope.TEAM, None, team, stats_by_team.get(team.pk, []), team.manager, team.parent.manager)
        for team in teams
    ]
    found += [
        Planned(
            Scope.TEAM,
            None,
            region,
            [s for team in teams if team.parent_id == region.pk for s in stats_by_team.get(team.pk, [])],
            region.manager,
            admin,
        )
        for region in regions
    ]
    found.append(Planned(Scope.COMPANY, None, None, everyone, admin, admin))
    return found


def round_to(value: float, step: int) -> int:
    return round(value / step) * step


def at(day: dt.date, rng: random.Random, tz) -> dt.datetime:
    """A time in office hours on `day`."""
    return dt.datetime.combine(day, dt.time(rng.randint(9, 17), rng.randint(0, 59)), tzinfo=tz)


def rep_forecasts(*, rng, window: Window, tz, rep: Rep, profile: RepProfile, won: list[float]):
    """A commit and a best case per month, submitted a few days before it; sometimes revised.

    Returns the rows and the commit per month.
    """
    finished = [won[i] for i in range(profile.hired, window.current)]
    overall = sum(finished) / len(finished) if finished else 0.0
    rows, commits = [], []

    def row(i, category, amount, submitted_at):
        return ForecastSubmission(
            scope=Scope.REP,
            rep=rep,
            period_kind=PeriodKind.MONTH,
            period_start=window.start(i),
            category=category,
            amount=money(amount),
            submitted_at=submitted_at,
            submitted_by=rep.user,
        )

    for i in range(window.months):
        if not profile.ramp(i):
            commits.append(0.0)
            continue
        recent = won[max(profile.hired, i - 3) : i]
        expected = sum(recent) / len(recent) if recent else overall
        actual = won[i] if i < window.current else expected  # this month is not over yet
        commit = round_to((0.75 * actual + 0.25 * expected) * rng.lognormvariate(-0.05, 0.12), 100)
        commits.append(commit)
        submitted = at(window.start(i) - rng.randint(2, 6) * DAY, rng, tz)
        if rng.random() < 0.15:  # an earlier commit, since revised: only the latest one counts
            earlier = submitted - rng.randint(5, 8) * DAY
            rows.append(row(i, COMMIT, commit * rng.lognormvariate(0, 0.2), earlier))
        rows.append(row(i, COMMIT, commit, submitted))
        rows.append(row(i, BEST_CASE, commit * rng.uniform(1.15, 1.45), submitted))
    return rows, commits


def rollup_forecasts(*, rng, window: Window, tz, subjects: list[Planned]):
    """Commit and best case per quarter and year for every subject, and per month for teams and
    the company (reps submit theirs monthly already): a little off the sum of their reps'
    monthly commits, submitted a day or two before the period starts."""
    rows = []
    for subject in subjects:
        for period_kind, months in MONTHS_IN.items():
            if period_kind == PeriodKind.MONTH and subject.scope == Scope.REP:
                continue
            for i in _period_starts(window, period_kind):
                # Months after this one have no commit yet: the latest one stands in for them.
                expected = sum(
                    s.commits[min(k, window.current)] for s in subject.members for k in range(i, i + months)
                )
                commit = round_to(expected * rng.lognormvariate(0, 0.05), 100)
                submitted = at(window.start(i) - rng.randint(1, 2) * DAY, rng, tz)
                for category, factor in ((COMMIT, 1), (BEST_CASE, 1.25)):
                    rows.append(
                        ForecastSubmission(
                            scope=subject.scope,
                            rep=subject.rep,
                            team=subject.team,
                            period_kind=period_kind,
                            period_start=window.start(i),
                            category=category,
                            amount=money(commit * factor),
                            submitted_at=submitted,
                            submitted_by=subject.owner,
                        )
                    )
    return rows


def spend(*, rng, window: Window, teams: list[Team], stats_by_team: dict[int, list[RepStats]]):
    """Monthly acquisition spend: two channels per team, travel for some reps, brand for the company."""
    rows = []

    def spent_on(i):
        start = window.start(i)
        return start + rng.randint(0, min(window.end(i).day - 1, (window.today - start).days)) * DAY

    for i in range(window.months):
        company_budget = 0.0
        for team in teams:
            members = stats_by_team.get(team.pk, [])
            active = sum(1 for s in members if s.profile.ramp(i))
            budget = sum(s.new_customers[i] for s in members) * rng.uniform(1200, 2000) + active * 250
            company_budget += budget
            share = rng.uniform(0.3, 0.7)
            for channel, part in zip(rng.sample(SPEND_CHANNELS, 2), (share, 1 - share), strict=True):
                rows.append(
                    AcquisitionSpend(
                        team=team, spent_on=spent_on(i), amount=money(budget * part), channel=channel
                    )
                )
            for s in members:
                if s.profile.ramp(i) and rng.random() < 0.3:
                    amount = rng.lognormvariate(0, 0.3) * 400 * s.profile.volume
                    rows.append(
                        AcquisitionSpend(
                            rep=s.rep, spent_on=spent_on(i), amount=money(amount), channel="Travel"
                        )
                    )
        brand = company_budget * rng.uniform(0.08, 0.12)
        rows.append(AcquisitionSpend(spent_on=spent_on(i), amount=money(brand), channel="Brand"))
    return rows


def targets(*, rng, window: Window, tz, subjects: list[Planned]):
    """Per rep: revenue and calls per month; per team: revenue and win rate per quarter; for the
    company: revenue per fiscal year. Each is set a week or two before its period by the
    subject's boss, a little above what the rep's team typically does; teams and the company
    add up their reps' targets, except that a team's revenue for this quarter is relative: last
    quarter's actual plus RELATIVE_UPLIFT percent. Yields the rows subject by subject."""
    growth = sum(MONTHLY_GROWTH**i for i in range(window.months)) / window.months
    reps = [subject for subject in subjects if subject.scope == Scope.REP]
    bases, calls = {}, {}
    for team in {subject.rep.team_id: subject.rep.team for subject in reps}.values():
        members = [subject.members[0] for subject in reps if subject.rep.team_id == team.pk]
        typical = {s.rep.pk: s.typical_won(window) for s in members}
        team_typical = sum(typical.values()) / len(typical)
        finished = [s.calls[i] for s in members for i in range(s.profile.hired, window.current)]
        for s in members:
            # Managers aim between what this rep and what the team typically does.
            bases[s.rep.pk] = (typical[s.rep.pk] + team_typical) / 2
            calls[s.rep.pk] = max(round_to(sum(finished) / len(finished) * 1.1, 5), 5) if finished else 5

    def revenue(stats: RepStats, i: int) -> int:
        if not (ramp := stats.profile.ramp(i)):
            return 0
        return max(round_to(bases[stats.rep.pk] * 1.1 * MONTHLY_GROWTH**i / growth * ramp, 500), 500)

    def row(subject, period_kind, i, metric, value, **relative):
        target = Target(
            scope=subject.scope,
            rep=subject.rep,
            team=subject.team,
            period_kind=period_kind,
            period_start=window.start(i),
            metric=metric,
            value=Decimal(value),
            created_by=subject.boss,
            **relative,
        )
        target._history_user = subject.boss  # simple_history's hook for bulk_create_with_history
        target._history_date = at(window.start(i) - rng.randint(7, 20) * DAY, rng, tz)
        return target

    plan = {
        Scope.REP: (PeriodKind.MONTH, (("revenue_won", None), ("calls_made", None))),
        Scope.TEAM: (PeriodKind.QUARTER, (("revenue_won", None), ("win_rate", "0.30"))),
        Scope.COMPANY: (PeriodKind.YEAR, (("revenue_won", None),)),
    }
    for subject in subjects:
        period_kind, metrics = plan[subject.scope]
        months = MONTHS_IN[period_kind]
        rows = []
        for i in _period_starts(window, period_kind):
            total = sum(revenue(s, k) for s in subject.members for k in range(i, i + months))
            if not total:  # not hired yet
                continue
            for metric, fixed in metrics:
                value, relative = fixed or (total if metric == "revenue_won" else calls[subject.rep.pk]), {}
                this_quarter = i <= window.current < i + 3
                if subject.scope == Scope.TEAM and metric == "revenue_won" and this_quarter and i >= 3:
                    value, relative = _grown_from_last_quarter(subject, window, i)
                rows.append(row(subject, period_kind, i, metric, value, **relative))
        yield rows


def _grown_from_last_quarter(subject: Planned, window: Window, i: int):
    """A relative target: the previous quarter's revenue plus RELATIVE_UPLIFT percent, with the
    actual as its snapshot will hold it (a sum of amounts with two places)."""
    actual = Decimal(f"{sum(s.won[k] for s in subject.members for k in range(i - 3, i)):.2f}")
    return actual * (1 + RELATIVE_UPLIFT / 100), {
        "baseline_start": window.start(i - 3),
        "uplift_pct": RELATIVE_UPLIFT,
    }


def _period_starts(window: Window, period_kind: str) -> list[int]:
    """The window months that start a period of this kind."""
    starts = {
        PeriodKind.MONTH: lambda i: True,
        PeriodKind.QUARTER: window.is_quarter_start,
        PeriodKind.YEAR: window.is_year_start,
    }[period_kind]
    return [i for i in range(window.months) if starts(i)]
