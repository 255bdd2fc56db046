"""The shapes the demo data follows: calendar, seasonality, rep profiles, products, volume split.

Plain functions and values, no database: everything here is reproducible from a seed.
"""

import datetime as dt
import functools
import random
from dataclasses import dataclass
from decimal import Decimal

# Calendar-month weights: a slow January, a summer dip, a slower December.
MONTH_WEIGHT = {
    1: 0.85,
    2: 0.95,
    3: 1.0,
    4: 1.0,
    5: 1.05,
    6: 1.0,
    7: 0.8,
    8: 0.72,
    9: 1.0,
    10: 1.05,
    11: 1.05,
    12: 0.6,
}
QUARTER_END_PUSH = 1.25
MONTHLY_GROWTH = 1.015
# Months after a hire: volume of a rep who is still ramping up.
RAMP = (0.25, 0.5, 0.75, 0.9)


def rng_for(seed: int, *parts) -> random.Random:
    """An independent, reproducible stream per part, so that one part never shifts another."""
    return random.Random(":".join(str(part) for part in (seed, *parts)))


@functools.cache  # called for every row; there are only a few dozen months
def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after the month of `day`."""
    years, month0 = divmod(day.month - 1 + months, 12)
    return dt.date(day.year + years, month0 + 1, 1)


def money(amount: float) -> Decimal:
    return Decimal(f"{max(amount, 0):.2f}")


@dataclass(frozen=True)
class Window:
    """The demo's months: `months` of them, the last one being the month that contains `today`.

    Month i (0-based) starts on start(i); i >= months are the months after this one, used only
    for deals that will be decided there and are therefore still open today.
    """

    today: dt.date
    months: int
    fiscal_start: int = 1

    @functools.cached_property  # read for every row
    def first(self) -> dt.date:
        return add_months(self.today, 1 - self.months)

    @property
    def current(self) -> int:
        return self.months - 1

    def start(self, i: int) -> dt.date:
        return add_months(self.first, i)

    def end(self, i: int) -> dt.date:
        return self.start(i + 1) - dt.timedelta(days=1)

    def index(self, day: dt.date) -> int:
        return (day.year - self.first.year) * 12 + day.month - self.first.month

    def is_quarter_start(self, i: int) -> bool:
        return (self.start(i).month - self.fiscal_start) % 3 == 0

    def is_quarter_end(self, i: int) -> bool:
        return (self.start(i).month - self.fiscal_start) % 3 == 2

    def is_year_start(self, i: int) -> bool:
        return self.start(i).month == self.fiscal_start

    def season(self, i: int) -> float:
        """How busy month i is: calendar weight, quarter-end push, steady growth."""
        push = QUARTER_END_PUSH if self.is_quarter_end(i) else 1.0
        return MONTH_WEIGHT[self.start(i).month] * push * MONTHLY_GROWTH**i

    def elapsed(self, i: int) -> float:
        """Share of month i that lies before today (1 for past months, 0 for future ones)."""
        if i < self.current:
            return 1.0
        if i > self.current:
            return 0.0
        return (self.today.day - 1) / (self.end(i).day)


@dataclass(frozen=True)
class RepProfile:
    kind: str  # "typical", "star" or "struggler"
    volume: float  # deals, relative to a typical rep
    activity: float  # activities, relative to a typical rep
    win_rate: float  # chance of winning a new-business deal
    churn: float  # monthly chance that one of their customers leaves
    hired: int  # month index the rep started in; 0 = before the window

    def ramp(self, i: int) -> float:
        if i < self.hired:
            return 0.0
        if self.hired == 0 or i - self.hired >= len(RAMP):
            return 1.0
        return RAMP[i - self.hired]


def rep_profiles(rng: random.Random, reps: int, months: int) -> list[RepProfile]:
    """Mostly typical reps, a few stars (2–3× volume, higher win rate), a few strugglers, some new hires.

    Rep 0 is the demo `rep` login: typical, and there from the start.
    """
    special = min(max(1, round(reps * 0.075)), (reps - 1) // 2)
    others = list(range(1, reps))
    rng.shuffle(others)
    stars, strugglers = set(others[:special]), set(others[special : 2 * special])
    profiles = []
    for r in range(reps):
        if r in stars:
            profile = RepProfile(
                "star", rng.uniform(2.0, 3.0), rng.uniform(1.4, 1.8), rng.uniform(0.29, 0.34), 0.008, 0
            )
        elif r in strugglers:
            profile = RepProfile(
                "struggler", rng.uniform(0.5, 0.7), rng.uniform(0.9, 1.2), rng.uniform(0.11, 0.15), 0.02, 0
            )
        else:
            hired = rng.randint(3, months - 4) if r and months >= 8 and rng.random() < 0.15 else 0
            profile = RepProfile(
                "typical",
                rng.lognormvariate(0, 0.2),
                rng.lognormvariate(0, 0.15),
                min(max(rng.gauss(0.21, 0.03), 0.14), 0.28),
                0.012,
                hired,
            )
        profiles.append(profile)
    return profiles


@dataclass(frozen=True)
class Product:
    name: str
    price: float
    weight: float  # how often a typical rep sells it
    star_weight: float  # how often a star does (bigger deals)


PRODUCTS = (
    Product("Starter", 1_200, 30, 15),
    Product("Team", 4_800, 30, 25),
    Product("Business", 12_000, 20, 25),
    Product("Enterprise", 45_000, 5, 15),
    Product("Analytics Add-on", 2_500, 10, 10),
    Product("Premium Support", 3_600, 5, 10),
)


def allocate(total: int, weights: list[float]) -> list[int]:
    """Split `total` into whole numbers proportional to `weights` that add up to exactly `total`."""
    weight_sum = sum(weights)
    if total <= 0 or weight_sum <= 0:
        return [0] * len(weights)
    exact = [total * w / weight_sum for w in weights]
    counts = [int(x) for x in exact]
    # Largest remainders first; a cell with no weight never gets one.
    order = sorted((k for k, w in enumerate(weights) if w > 0), key=lambda k: (counts[k] - exact[k], k))
    for k in order[: total - sum(counts)]:
        counts[k] += 1
    return counts
