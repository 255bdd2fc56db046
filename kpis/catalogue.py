"""The metric catalogue: every KPI by its key, what it means, and how it is computed.

Each metric is a numerator and (for ratios) a denominator, both *linear* in the components that
kpis.aggregates sums per rep and period. Linearity is what makes roll-ups right: a team's or a
quarter's value is Σ numerator / Σ denominator, never an average of rates.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

Components = dict[str, Decimal]


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str  # money | count | ratio | days | score
    higher_is_better: bool
    definition: str
    numerator: Callable[[Components], Decimal]
    denominator: Callable[[Components], Decimal] | None = None
    # Computed per subject from its own figures (forecast_accuracy), not summed from below.
    own_only: bool = False

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None

    @property
    def summable(self) -> bool:
        """A flow: a quarter is the sum of its months and a team the sum of its reps, so a
        target for it can be split (and paced); other metrics' targets apply as they are."""
        return self.key in SUMMABLE


def c(name):
    return lambda comps: comps.get(name, Decimal(0))


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
        lambda k: k.get("won_count", 0) + k.get("lost_count", 0),
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
        "Customers churned in the period / customers active at its start.",
        c("churned"),
        c("active_at_start"),
    ),
    Metric(
        "cltv",
        "CLTV",
        "money",
        True,
        "(Revenue from existing customers / active customers) × gross margin / churn rate.",
        # With both "active" counts taken at the period's start this reduces to
        # existing revenue × margin / churned customers — still linear, so it rolls up.
        lambda k: k.get("existing_revenue", 0) * settings.GROSS_MARGIN,
        c("churned"),
    ),
    Metric(
        "nps",
        "NPS",
        "score",
        True,
        "(Promoters − detractors) / responses × 100; promoters 9–10, detractors 0–6.",
        lambda k: k.get("nps_net", 0) * 100,
        c("nps_responses"),
    ),
    Metric(
        "repeat_purchase_rate",
        "Repeat purchase rate",
        "ratio",
        True,
        "Of the customers with a won deal in the period, the share with an earlier won deal.",
        c("repeat_buyers"),
        c("buyers"),
    ),
    Metric(
        "forecast_accuracy",
        "Forecast accuracy",
        "ratio",
        True,
        "max(0, 1 − |revenue won − commit forecast| / revenue won), forecast made before the period.",
        c("forecast_hit"),
        c("won_amount"),
        own_only=True,
    ),
]

SUMMABLE = {
    "revenue_won",
    "deals_won",
    "deals_lost",
    "leads_generated",
    "calls_made",
    "emails_sent",
    "meetings_held",
    "new_customers",
}
BY_KEY = {m.key: m for m in METRICS}
KEYS = list(BY_KEY)


def get(key: str) -> Metric:
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"Unknown metric '{key}'. Known: {', '.join(KEYS)}.") from None


def value_of(numerator: Decimal, denominator: Decimal | None) -> Decimal | None:
    """A plain figure is its numerator; a ratio over 0 is undefined (None), never 0."""
    if denominator is None:
        return numerator
    if denominator == 0:
        return None
    return numerator / denominator
