"""One rep's facts — customers, leads, opportunities, activities, NPS responses — as rows to insert.

Deals are drawn per month from the rep's share of the volume, then walked in order of creation,
so that a deal can go to a customer won by an earlier one (repeat business) and a won deal
turns its prospect into a customer. Activities hang off the deals that were open that month.

The rows are plain tuples in the column order of COLUMNS, not model instances: at a million
deals, building instances would cost more than all the rest of the seed. Customers and
opportunities take their primary key from `new_id` when they are made, so that the rows that
point at them can say so before anything is written.
"""

import bisect
import datetime as dt
import heapq
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from kpis.models import Activity, Customer, Lead, NpsResponse, Opportunity, OpportunityState, Stage
from teams.models import Rep

from .history import DealHistory
from .names import ACTIVITY_SUBJECTS, LEAD_SOURCES, PARENT_COMPANIES, SECTORS, company_name
from .shape import PRODUCTS, RepProfile, Window, money

# The columns of each model's rows, in order. Leads, activities and NPS responses get their
# primary key from the database: nothing points at them.
COLUMNS = {
    Customer: (
        "id",
        "name",
        "owner_id",
        "sector",
        "country",
        "employees",
        "annual_revenue",
        "year_established",
        "subsidiary_of",
        "acquired_on",
        "churned_on",
    ),
    Lead: ("name", "rep_id", "source", "created_on", "converted_on", "customer_id"),
    Opportunity: (
        "id",
        "external_id",
        "name",
        "rep_id",
        "customer_id",
        "product",
        "stage_id",
        "amount",
        "created_on",
        "closed_on",
        "expected_close_on",
        "recorded_on",  # the demo CRM recorded each deal the day it was created
    ),
    # Its history (demo.history): written by the seed, not by the database's trigger.
    OpportunityState: (
        "opportunity_id",
        "since",
        "until",
        "stage_id",
        "amount",
        "closed_on",
        "expected_close_on",
        "rep_id",
        "recorded_at",
        "recorded_by_id",
    ),
    Activity: ("rep_id", "kind", "occurred_at", "customer_id", "opportunity_id", "subject"),
    NpsResponse: ("customer_id", "responded_on", "score", "comment"),
}
DAY = dt.timedelta(days=1)
# Weights of the months after this one: deals decided there are open today (the pipeline).
FUTURE_MONTHS = (0.8, 0.45)
REPEAT_SHARE = 0.35  # of a rep's deals, once they have customers, that go to one of them
REPEAT_WIN_BONUS = 0.12  # an existing customer is easier to win
STALLED_SHARE = 0.03  # of deals that would have closed by now, still open
LEAD_CONVERSION = 0.3
OPEN_STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")
KINDS = tuple(Activity.Kind.values)  # plain strings: call, email, meeting
KIND_WEIGHTS = {"typical": (45, 40, 15), "star": (35, 40, 25), "struggler": (55, 35, 10)}
STAGE_ID, AMOUNT, CLOSED_ON = (COLUMNS[Opportunity].index(c) for c in ("stage_id", "amount", "closed_on"))
EXPECTED_CLOSE_ON = COLUMNS[OpportunityState].index("expected_close_on")
# Working hours in TIME_ZONE, where activities are counted; meetings start on the half hour.
HOURS, MINUTES, MEETING_MINUTES = range(8, 18), range(60), (0, 30)
# NPS scores 0..10: most customers are happy, a few are not.
NPS_CUM_WEIGHTS = list(itertools.accumulate((2, 1, 1, 2, 2, 4, 6, 12, 18, 26, 26)))
NPS_COMMENTS = {
    "detractor": ("Too expensive for what we get.", "Support was slow to answer.", ""),
    "passive": ("Does the job.", "", ""),
    "promoter": ("Great product and a great team.", "Our reps love it.", "", ""),
}


def deal_weights(window: Window, profile: RepProfile, rng: random.Random) -> list[float]:
    """The rep's relative volume of deal decisions per month, this month's successors included."""
    weights = [profile.volume * profile.ramp(i) * window.season(i) for i in range(window.months)]
    weights += [
        profile.volume * window.season(window.months + k) * decay for k, decay in enumerate(FUTURE_MONTHS)
    ]
    return [w * rng.lognormvariate(0, 0.15) for w in weights]


def activity_weights(window: Window, profile: RepProfile, rng: random.Random) -> list[float]:
    """The rep's relative activity volume per month; nothing today or later."""
    return [
        profile.activity * profile.ramp(i) * window.season(i) * window.elapsed(i) * rng.lognormvariate(0, 0.1)
        for i in range(window.months)
    ]


def weekday(day: dt.date, lo: dt.date, hi: dt.date) -> dt.date:
    """A weekend day moved to the Friday before or else the Monday after, staying within [lo, hi]."""
    wd = day.weekday()
    if wd < 5:
        return day
    if (friday := day - (wd - 4) * DAY) >= lo:
        return friday
    monday = day + (7 - wd) * DAY
    return monday if monday <= hi else day


@dataclass(slots=True)
class Prospect:
    """A customer while the deals are walked: whether and when it is won is known only later."""

    id: int
    name: str
    details: tuple  # sector, country, employees, annual_revenue, year_established, subsidiary_of
    acquired_on: dt.date | None = None
    churned_on: dt.date | None = None


class Deal(NamedTuple):
    """What an activity needs to know of an opportunity."""

    id: int
    customer_id: int
    created_on: dt.date
    closed_on: dt.date | None


@dataclass
class RepFacts:
    """Rows per model, as tuples in COLUMNS order."""

    customers: list[tuple] = field(default_factory=list)
    leads: list[tuple] = field(default_factory=list)
    opportunities: list[tuple] = field(default_factory=list)
    states: list[tuple] = field(default_factory=list)  # the opportunities' histories
    activities: list[tuple] = field(default_factory=list)
    nps_responses: list[tuple] = field(default_factory=list)
    # Per window month, for forecasts, targets and spend.
    won: list[float] = field(default_factory=list)
    new_customers: list[int] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)


def won_while(window: Window, facts: RepFacts, stages: dict[str, Stage], holds: Callable) -> list[float]:
    """Revenue won per window month, as RepFacts.won, by the deals closed on the days `holds`
    says: what a rep won while in one team."""
    won, won_stage = [0.0] * window.months, stages["Won"].pk
    for row in facts.opportunities:
        if row[STAGE_ID] == won_stage and holds(row[CLOSED_ON]):
            won[window.index(row[CLOSED_ON])] += float(row[AMOUNT])
    return won


class RepFactsBuilder:
    def __init__(
        self,
        *,
        rng,
        window,
        tz,
        rep: Rep,
        profile: RepProfile,
        countries,
        stages: dict[str, Stage],
        new_id: Callable[[type], int],
        history: DealHistory,
    ):
        self.rng, self.window, self.tz = rng, window, tz
        self.rep, self.profile, self.countries, self.stages = rep, profile, countries, stages
        self.new_id, self.history = new_id, history
        self.today = window.today
        self.earliest = window.start(profile.hired)
        months = window.months
        self.facts = RepFacts(won=[0.0] * months, new_customers=[0] * months, calls=[0] * months)
        self.prospects: list[Prospect] = []
        self.deals: list[Deal] = []

    def build(self, *, deal_counts: list[int], activity_counts: list[int], first_number: int) -> RepFacts:
        self._deals(self._deal_skeletons(deal_counts), first_number)
        self._activities(activity_counts)
        self._nps_responses()
        self.facts.customers = [
            (p.id, p.name, self.rep.pk, *p.details, p.acquired_on, p.churned_on) for p in self.prospects
        ]
        return self.facts

    def _deal_skeletons(self, deal_counts):
        """(created, decided, product, amount) of every deal, in order of creation."""
        rng, star = self.rng, self.profile.kind == "star"
        weights = [p.star_weight if star else p.weight for p in PRODUCTS]
        cum_weights = list(itertools.accumulate(weights))
        skeletons = []
        for i, count in enumerate(deal_counts):
            for _ in range(count):
                decided = self._decision_day(i)
                product = rng.choices(PRODUCTS, cum_weights=cum_weights)[0]
                amount = (
                    product.price * rng.lognormvariate(0, 0.4) * (1 + 0.03 * i / 12) * (1.1 if star else 1)
                )
                cycle = rng.lognormvariate(math.log(30), 0.5) * (amount / 4000) ** 0.15
                created = max(decided - min(max(int(cycle), 3), 240) * DAY, self.earliest)
                if created > self.today:  # to be decided soon, but not started yet: started lately
                    created = max(self.today - rng.randint(0, 20) * DAY, self.earliest)
                skeletons.append((created, decided, len(skeletons), product, amount))
        skeletons.sort(key=lambda s: s[:3])
        return [(created, decided, product, amount) for created, decided, _, product, amount in skeletons]

    def _decision_day(self, i: int) -> dt.date:
        start, end = self.window.start(i), self.window.end(i)
        if self.window.is_quarter_end(i) and self.rng.random() < 0.4:  # the quarter-end push
            day = end - self.rng.randint(0, 6) * DAY
        else:
            day = start + self.rng.randint(0, end.day - 1) * DAY
        return weekday(day, start, end)

    def _deals(self, skeletons, first_number: int) -> None:
        rng, window, facts, profile = self.rng, self.window, self.facts, self.profile
        rep_id, won_stage, lost_stage = self.rep.pk, self.stages["Won"].pk, self.stages["Lost"].pk
        pending = []  # (acquired_on, number, customer): won, but after the current deal began
        customers = []  # acquired before the current deal began (some have churned since)
        for number, (created, decided, product, amount) in enumerate(skeletons, start=first_number):
            while pending and pending[0][0] <= created:
                customers.append(heapq.heappop(pending)[2])
            customer = self._existing_customer(customers, created) if customers else None
            repeat = customer is not None
            if repeat:
                amount *= 0.7
            else:
                customer = self._new_prospect()
            chance = profile.win_rate + (REPEAT_WIN_BONUS if repeat else 0)
            chance *= 1.08 if window.is_quarter_end(window.index(decided)) else 1
            won = rng.random() < chance
            # Losing is found out sooner than winning.
            closed = decided if won else created + int((decided - created).days * 0.8) * DAY
            if closed > self.today or rng.random() < STALLED_SHARE:
                if closed > self.today:  # as far along as the time it has had
                    progress = (self.today - created) / (closed - created)
                else:  # stalled somewhere early
                    progress = rng.random() * 0.7
                won, closed = False, None
                stage = self.stages[OPEN_STAGES[min(int(progress * 4), 3)]].pk
            else:
                stage = won_stage if won else lost_stage
            deal = Deal(self.new_id(Opportunity), customer.id, created, closed)
            value = money(amount)
            states = self.history.states(
                deal_id=deal.id,
                created=created,
                decided=decided,
                closed=closed,
                stage=stage,
                amount=value,
                won=won,
            )
            facts.states.extend(states)
            facts.opportunities.append(
                (
                    deal.id,
                    f"DEMO-{number:06d}",
                    f"{customer.name} – {product.name}",
                    rep_id,
                    customer.id,
                    product.name,
                    stage,
                    value,
                    created,
                    closed,
                    states[-1][EXPECTED_CLOSE_ON],
                    created,
                )
            )
            self.deals.append(deal)
            if won:
                facts.won[window.index(closed)] += float(value)
            if not repeat and won:
                customer.acquired_on, customer.churned_on = closed, self._churned_on(closed)
                heapq.heappush(pending, (closed, number, customer))
                facts.new_customers[window.index(closed)] += 1
            if not repeat and (won or rng.random() < 0.6):
                facts.leads.append(self._lead(customer.name, created, customer if won else None))
        self._leads_without_deals([created for created, *_ in skeletons])

    def _existing_customer(self, customers, day):
        if self.rng.random() >= REPEAT_SHARE:
            return None
        for _ in range(4):
            customer = self.rng.choice(customers)
            if customer.churned_on is None or customer.churned_on > day:
                return customer
        return None

    def _new_prospect(self) -> Prospect:
        rng = self.rng
        employees = int(rng.lognormvariate(math.log(250), 1.3)) + 5
        name = company_name(rng)
        details = (
            rng.choice(SECTORS),
            rng.choice(self.countries),
            employees,
            money(employees * rng.uniform(0.1, 0.3)),  # annual revenue, in millions
            rng.randint(1950, self.today.year - 2),
            rng.choice(PARENT_COMPANIES) if rng.random() < 0.05 else "",
        )
        prospect = Prospect(self.new_id(Customer), name, details)
        self.prospects.append(prospect)
        return prospect

    def _churned_on(self, acquired: dt.date) -> dt.date | None:
        months = int(math.log(1 - self.rng.random()) / math.log(1 - self.profile.churn))
        day = acquired + (months * 30 + self.rng.randint(15, 45)) * DAY
        return day if day <= self.today else None

    def _lead(self, name: str, deal_created: dt.date, customer: Prospect | None) -> tuple:
        created = max(deal_created - self.rng.randint(0, 21) * DAY, self.earliest)
        source = self.rng.choice(LEAD_SOURCES)
        if customer is None:
            return (name, self.rep.pk, source, created, None, None)
        return (name, self.rep.pk, source, created, customer.acquired_on, customer.id)

    def _leads_without_deals(self, deal_dates: list[dt.date]) -> None:
        """Leads that never became a deal, enough to bring the rep's conversion near LEAD_CONVERSION."""
        leads = self.facts.leads
        converted = sum(self.facts.new_customers)  # every customer won came with a lead
        for _ in range(max(0, round(converted / LEAD_CONVERSION) - len(leads))):
            leads.append(self._lead(company_name(self.rng), self.rng.choice(deal_dates), None))

    def _activities(self, activity_counts: list[int]) -> None:
        rng, window, facts, tz, rep_id = self.rng, self.window, self.facts, self.tz, self.rep.pk
        current = window.current
        live = [[] for _ in range(window.months)]  # per month: the deals open at some point in it
        for deal in self.deals:
            last = window.index(deal.closed_on) if deal.closed_on else current
            for i in range(max(window.index(deal.created_on), 0), min(last, current) + 1):
                live[i].append(deal)
        customer_ids = [prospect.id for prospect in self.prospects]
        # rng.choices(KINDS, cum_weights=…)[0] by hand (the same draw), without its checks per call.
        cum_weights = list(itertools.accumulate(KIND_WEIGHTS[self.profile.kind]))
        total, top = cum_weights[-1] + 0.0, len(KINDS) - 1
        unit, choice, randint = rng.random, rng.choice, rng.randint
        combine, time = dt.datetime.combine, dt.time
        calls, rows = facts.calls, facts.activities
        yesterday = self.today - DAY
        for i, count in enumerate(activity_counts):
            start, last, deals = window.start(i), min(window.end(i), yesterday), live[i]
            for _ in range(count):
                kind = KINDS[bisect.bisect(cum_weights, unit() * total, 0, top)]
                deal = choice(deals) if deals and unit() < 0.7 else None
                if deal is not None:
                    lo, hi = max(start, deal.created_on), min(last, deal.closed_on or last)
                    if lo > hi:
                        deal = None
                if deal is None:
                    lo, hi, deal_id = start, last, None
                    customer_id = choice(customer_ids) if customer_ids and unit() < 0.4 else None
                else:
                    deal_id, customer_id = deal.id, deal.customer_id
                day = weekday(lo + randint(0, (hi - lo).days) * DAY, lo, hi)
                minute = choice(MEETING_MINUTES) if kind == "meeting" else choice(MINUTES)
                occurred_at = combine(day, time(choice(HOURS), minute), tzinfo=tz)
                subject = choice(ACTIVITY_SUBJECTS[kind])
                rows.append((rep_id, kind, occurred_at, customer_id, deal_id, subject))
                if kind == "call":
                    calls[i] += 1

    def _nps_responses(self) -> None:
        rng, kind = self.rng, self.profile.kind
        mood = {"star": 1, "struggler": -1}.get(kind, 0)
        for customer in self.prospects:
            if customer.acquired_on is None:
                continue
            end = customer.churned_on or self.today
            day = customer.acquired_on + rng.randint(20, 90) * DAY
            while day <= end:
                if rng.random() < 0.6:
                    score = rng.choices(range(11), cum_weights=NPS_CUM_WEIGHTS)[0]
                    score += mood if rng.random() < 0.3 else 0
                    if customer.churned_on and (customer.churned_on - day).days < 90:
                        score -= 3  # unhappy before they leave
                    score = min(max(score, 0), 10)
                    band = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
                    self.facts.nps_responses.append((customer.id, day, score, rng.choice(NPS_COMMENTS[band])))
                day += rng.randint(90, 200) * DAY
