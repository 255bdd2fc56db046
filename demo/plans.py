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

from .moves import Stint
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
    stints: list[tuple[Stint, list[float]]]  # the teams the rep was in, and what they won in each

    def typical_won(self, window: Window) -> float:
        """Mean revenue won over the rep's finished months (the current one is not over)."""
        months = [self.won[i] for i in range(self.profile.hired, window.current)]
        return sum(months) / len(months) if months else 0.0


@dataclass(frozen=True)
class Part:
    """What of a rep's months a subject is credited with (DESIGN.md, "Who gets the credit"): the
    `share` of each window month's days (1 while the rep is in it, 0 outside, a part of the month
    of a move) and the revenue the rep won in it, to the cent."""

    stats: RepStats
    share: list[float]
    won: list[float]

    def at(self, i: int) -> float:
        return self.share[min(i, len(self.share) - 1)]  # months after this one: as this one

    def within(self, months: list[bool]) -> "Part":
        """Only the given months of it (a team's part in a region it sat in then)."""
        return Part(
            self.stats,
            [x if m else 0.0 for x, m in zip(self.share, months, strict=True)],
            [x if m else 0.0 for x, m in zip(self.won, months, strict=True)],
        )


@dataclass
class Planned:
    """A rep, a team or the company as the demo plans for it: what it is credited with, who
    forecasts for it and who sets its targets (the one subject type is teams.subjects.Subject)."""

    scope: str
    rep: Rep | None
    team: Team | None
    members: list[Part]
    owner: User  # submits its forecasts
    boss: User  # sets its targets


def team_parts(*, window: Window, teams, stats_by_team: dict[int, list[RepStats]]) -> dict[int, list[Part]]:
    """Each team's parts: a rep's stint in it, with the days of each month and what they won then."""
    found = {team.pk: [] for team in teams}
    for team in teams:
        for s in stats_by_team.get(team.pk, []):
            for stint, won in s.stints:
                share = [stint.share(window, i) for i in range(window.months)]
                found[stint.team.pk].append(Part(s, share, won))
    return found


def subjects(
    *, window: Window, regions, teams, stats_by_team, parts: dict[int, list[Part]], region_of, admin: User
) -> list[Planned]:
    """Every rep, every team (regions included) and the company. `region_of(team, day)`: the
    region a team sat in on a day (a team moves from a month's first day)."""
    everyone = [s for team in teams for s in stats_by_team.get(team.pk, [])]
    whole = [1.0] * window.months
    found = [
        Planned(Scope.REP, s.rep, None, [Part(s, whole, s.won)], s.rep.user, s.rep.team.manager)
        for s in everyone
    ]
    found += [
        Planned(Scope.TEAM, None, team, parts[team.pk], team.manager, team.parent.manager) for team in teams
    ]
    for region in regions:
        members = []
        for team in teams:
            under = [region_of(team, window.start(i)) == region for i in range(window.months)]
            members += [p.within(under) for p in parts[team.pk]] if any(under) else []
        members = [p for p in members if any(p.share)]
        found.append(Planned(Scope.TEAM, None, region, members, region.manager, admin))
    found.append(Planned(Scope.COMPANY, None, None, [Part(s, whole, s.won) for s in everyone], admin, admin))
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
                    p.at(k) * p.stats.commits[min(k, window.current)]
                    for p in subject.members
                    for k in range(i, i + months)
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


def spend(*, rng, window: Window, teams: list[Team], parts: dict[int, list[Part]]):
    """Monthly acquisition spend: two channels per team, travel for some reps, brand for the
    company. A team spends on the customers its reps won while in it."""
    rows = []

    def spent_on(i):
        start = window.start(i)
        return start + rng.randint(0, min(window.end(i).day - 1, (window.today - start).days)) * DAY

    for i in range(window.months):
        company_budget = 0.0
        for team in teams:
            members = [p for p in parts[team.pk] if p.share[i]]
            active = sum(p.share[i] for p in members if p.stats.profile.ramp(i))
            customers = sum(p.share[i] * p.stats.new_customers[i] for p in members)
            budget = customers * rng.uniform(1200, 2000) + active * 250
            company_budget += budget
            share = rng.uniform(0.3, 0.7)
            for channel, part in zip(rng.sample(SPEND_CHANNELS, 2), (share, 1 - share), strict=True):
                rows.append(
                    AcquisitionSpend(
                        team=team, spent_on=spent_on(i), amount=money(budget * part), channel=channel
                    )
                )
            for p in members:
                if p.stats.profile.ramp(i) and rng.random() < 0.3:
                    amount = rng.lognormvariate(0, 0.3) * 400 * p.stats.profile.volume * p.share[i]
                    rows.append(
                        AcquisitionSpend(
                            rep=p.stats.rep, spent_on=spent_on(i), amount=money(amount), channel="Travel"
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
        members = [subject.members[0].stats for subject in reps if subject.rep.team_id == team.pk]
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
            # A part-month of a move makes a fraction: rounded, as a manager would.
            total = round_to(
                sum(revenue(p.stats, k) * p.at(k) for p in subject.members for k in range(i, i + months)), 500
            )
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
    actual = Decimal(f"{sum(p.won[k] for p in subject.members for k in range(i - 3, i)):.2f}")
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
