"""The metric catalogue: every KPI by its key, what it means, and how it is computed.

Each metric is a numerator and (for ratios) a denominator, both *linear* in the components that
kpis.engine.read sums per rep and period. Linearity is what makes roll-ups right: a team's or a
quarter's value is Σ numerator / Σ denominator, never an average of rates. The linear forms are
data (`Linear`), so that Python (one subject) and SQL (every subject at once, kpis.engine.store) read
the one definition.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

Components = dict[str, Decimal]
ZERO = Decimal(0)


@dataclass(frozen=True)
class Linear:
    """Σ scale × component. A scale is a number, or the name of a setting read when evaluated."""

    terms: tuple[tuple[str, Decimal | str], ...]

    def scales(self):
        for name, scale in self.terms:
            yield name, Decimal(getattr(settings, scale) if isinstance(scale, str) else scale)

    def __call__(self, comps: Components) -> Decimal:
        total = ZERO
        for name, scale in self.scales():
            value = comps.get(name, ZERO)
            total += value if scale == 1 else value * scale
        return total

    def __add__(self, other: "Linear") -> "Linear":
        return Linear(self.terms + other.terms)

    @property
    def components(self) -> set[str]:
        return {name for name, _ in self.terms}


def c(name: str, scale: Decimal | str = Decimal(1)) -> Linear:
    return Linear(((name, scale),))


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str  # money | count | ratio | days | score
    higher_is_better: bool
    definition: str
    numerator: Linear
    denominator: Linear | None = None
    # Computed per subject from its own figures (forecast_accuracy, _bias), not summed from below.
    own_only: bool = False
    # A value that is not numerator / denominator but a product of the subject's own figures of
    # the period (sales_velocity): computed from its pairs; the numerator still sums.
    derived: Callable[[dict], Decimal | None] | None = None

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None

    @property
    def summable(self) -> bool:
        """A flow: a quarter is the sum of its months and a team the sum of its reps, so a
        target for it can be split (and paced); other metrics' targets apply as they are."""
        return self.key in SUMMABLE


def velocity(pairs: dict[str, tuple]) -> Decimal | None:
    """sales_velocity = open deals at the start × win rate × average deal value / sales cycle
    = open × revenue × cycle count / ((won + lost) × cycle days); undefined where a factor is
    (no deal won, no won deal with both dates) or the cycle is 0 days."""
    open_deals, revenue = pairs["sales_velocity"][0], pairs["revenue_won"][0]
    won, closed = pairs["win_rate"]
    cycle_days, cycle_count = pairs["sales_cycle_days"]
    if not (won and cycle_count and cycle_days):
        return None
    return open_deals * revenue * cycle_count / (closed * cycle_days)


def value_of(numerator: Decimal, denominator: Decimal | None) -> Decimal | None:
    """A plain figure is its numerator; a ratio over 0 is undefined (None), never 0."""
    if denominator is None:
        return numerator
    if denominator == 0:
        return None
    return numerator / denominator


METRICS = [
    Metric(
        "revenue_won",
        "Revenue won",
        "money",
        True,
        "Σ amount of opportunities won, by close date.",
        c("won_amount"),
    ),
    Metric("deals_won", "Deals won", "count", True, "Opportunities won, by close date.", c("won_count")),
    Metric("deals_lost", "Deals lost", "count", False, "Opportunities lost, by close date.", c("lost_count")),
    Metric(
        "avg_deal_value",
        "Average deal value",
        "money",
        True,
        "Revenue won / deals won.",
        c("won_amount"),
        c("won_count"),
    ),
    Metric(
        "win_rate",
        "Win rate",
        "ratio",
        True,
        "Deals won / (deals won + deals lost), by close date.",
        c("won_count"),
        c("won_count") + c("lost_count"),
    ),
    Metric(
        "sales_cycle_days",
        "Sales cycle",
        "days",
        False,
        "Average days from creation to close of won deals that have both dates.",
        c("cycle_days"),
        c("cycle_count"),
    ),
    Metric(
        "pipeline_value",
        "Pipeline",
        "money",
        True,
        "Σ amount of opportunities open at the end of the period.",
        c("pipeline"),
    ),
    Metric(
        "weighted_pipeline_value",
        "Weighted pipeline",
        "money",
        True,
        "Open pipeline at the end of the period, each deal × its stage's probability.",
        c("weighted_pipeline"),
    ),
    Metric(
        "pipeline_created",
        "Pipeline created",
        "money",
        True,
        "Σ amount of opportunities created in the period (undated ones: on the day first recorded).",
        c("created_amount"),
    ),
    Metric(
        "sales_velocity",
        "Sales velocity (per day)",
        "money",
        True,
        "Money per day: opportunities open at the period's start × win rate × average deal value / "
        "sales cycle, all of the subject's own period (the stored numerator is the open deals).",
        c("open_at_start"),
        derived=velocity,
    ),
    Metric("leads_generated", "Leads", "count", True, "Leads created in the period.", c("leads")),
    Metric(
        "lead_conversion_rate",
        "Lead conversion",
        "ratio",
        True,
        "Of the leads created in the period, the share converted to a customer.",
        c("leads_converted"),
        c("leads"),
    ),
    Metric("calls_made", "Calls", "count", True, "Calls made, by date.", c("calls")),
    Metric("emails_sent", "Emails", "count", True, "Emails sent, by date.", c("emails")),
    Metric("meetings_held", "Meetings", "count", True, "Meetings held, by date.", c("meetings")),
    Metric(
        "new_customers",
        "New customers",
        "count",
        True,
        "Customers acquired, by acquisition date.",
        c("new_customers"),
    ),
    Metric(
        "cac",
        "CAC",
        "money",
        False,
        "Acquisition spend in the period / new customers.",
        c("spend"),
        c("new_customers"),
    ),
    Metric(
        "churn_rate",
        "Churn",
        "ratio",
        False,
        "Of the customers active at the period's start, the share that churned during it.",
        c("churned_from_base"),
        c("active_at_start"),
    ),
    Metric(
        "cltv",
        "CLTV",
        "money",
        True,
        "Revenue per customer × gross margin / churn rate, over the 12 months ending with the "
        "period: gross margin × revenue won from customers / customers churned in them.",
        c("customer_revenue_12m", "GROSS_MARGIN"),
        c("churned_12m"),
    ),
    Metric(
        "nps",
        "NPS",
        "score",
        True,
        "(Promoters − detractors) / responses × 100; promoters 9–10, detractors 0–6.",
        c("nps_net", Decimal(100)),
        c("nps_responses"),
    ),
    Metric(
        "repeat_purchase_rate",
        "Repeat purchase rate",
        "ratio",
        True,
        "Of the customers with a won deal in the period, the share with at least two won deals up to "
        "its end (earlier ones, or two in the period).",
        c("repeat_buyers"),
        c("buyers"),
    ),
    Metric(
        "forecast_accuracy",
        "Forecast accuracy",
        "ratio",
        True,
        "max(0, 1 − |revenue won − commit forecast| / revenue won), forecast made before the period.",
        # Both set per subject from its own revenue and forecast (kpis.engine.evaluate.forecast_components).
        c("forecast_hit"),
        c("forecast_base"),
        own_only=True,
    ),
    Metric(
        "forecast_bias",
        "Forecast bias",
        "ratio",
        # Neither way is good: 0 is. Lower, so that an over-forecast growing shows as worse.
        False,
        "(commit forecast − revenue won) / revenue won, forecast made before the period: positive "
        "over-forecast, negative under-forecast; a complete miss is +100%.",
        c("forecast_over"),
        c("forecast_base"),  # accuracy's: defined exactly where accuracy is
        own_only=True,
    ),
]

SUMMABLE = {
    "revenue_won",
    "pipeline_created",
    "deals_won",
    "deals_lost",
    "leads_generated",
    "calls_made",
    "emails_sent",
    "meetings_held",
    "new_customers",
}
# Why a ratio is undefined, in words a page shows beside the empty figure.
UNDEFINED_BECAUSE = {
    "avg_deal_value": "no deal won",
    "win_rate": "no deal won or lost",
    "sales_cycle_days": "no won deal with both dates",
    "lead_conversion_rate": "no lead created",
    "cac": "no new customer",
    "churn_rate": "no customer active at the period's start",
    "cltv": "no customer churned in the 12 months to the period's end",
    "nps": "no response",
    "repeat_purchase_rate": "no customer bought",
    "forecast_accuracy": "no commit forecast made before the period, or nothing committed and nothing won",
    "sales_velocity": "no deal won in the period with both dates, or a sales cycle of 0 days",
    "forecast_bias": "no commit forecast made before the period, or nothing committed and nothing won",
}
BY_KEY = {m.key: m for m in METRICS}
COMPONENTS = sorted(
    {name for m in METRICS for form in (m.numerator, m.denominator) if form for name in form.components}
)
KEYS = list(BY_KEY)


def get(key: str) -> Metric:
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"Unknown metric '{key}'. Known: {', '.join(KEYS)}.") from None


def pairs(comps: Components, metrics=METRICS) -> dict[str, tuple]:
    """{metric: (numerator, denominator)} from a subject's components for one period — and for a
    derived metric (numerator, None, value)."""
    found = {m.key: (m.numerator(comps), m.denominator(comps) if m.is_ratio else None) for m in metrics}
    return derive(found)


DERIVED = [m for m in METRICS if m.derived]


def derive(pairs: dict[str, tuple]) -> dict[str, tuple]:
    """(Re)compute the derived metrics' values from the period's other pairs, in place."""
    for m in DERIVED:
        if m.key in pairs:
            pairs[m.key] = (pairs[m.key][0], None, m.derived(pairs))
    return pairs
