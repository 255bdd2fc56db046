"""A figure and the records its drill-down lists come from one statement of the metric's rule
(kpis.engine.attribution), so for every subject, period and metric the records add up to the
stored numerator or denominator — worked out here from the records in plain Python."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command

from kpis.drill import records_for
from kpis.models import KpiSnapshot
from kpis.periods import Period
from teams.models import Rep, Team
from teams.subjects import COMPANY, Subject

pytestmark = pytest.mark.django_db

SIX = Decimal("0.000001")


def amount(records):
    return sum((r.amount for r in records), Decimal(0))


def count(records):
    return Decimal(len(records))


# metric → (which figure of the snapshot, what the records give)
CHECKS = {
    "revenue_won": ("numerator", amount),
    "deals_won": ("numerator", count),
    "avg_deal_value": ("denominator", count),
    "deals_lost": ("numerator", count),
    "win_rate": ("denominator", count),
    "sales_cycle_days": ("numerator", lambda rs: Decimal(sum((r.closed_on - r.created_on).days for r in rs))),
    "pipeline_value": ("numerator", amount),
    "pipeline_created": ("numerator", amount),
    "sales_velocity": ("numerator", count),
    "weighted_pipeline_value": ("numerator", lambda rs: sum((r.amount * r.probability for r in rs), 0)),
    "leads_generated": ("numerator", count),
    "lead_conversion_rate": ("denominator", count),
    "calls_made": ("numerator", count),
    "emails_sent": ("numerator", count),
    "meetings_held": ("numerator", count),
    "new_customers": ("numerator", count),
    "churn_rate": ("numerator", count),
    "cltv": ("numerator", lambda rs: amount(rs) * Decimal(settings.GROSS_MARGIN)),
    "repeat_purchase_rate": ("denominator", lambda rs: Decimal(len({r.customer_id for r in rs}))),
    "nps": ("denominator", count),
}


def test_every_drill_down_adds_up_to_its_figure():
    call_command("seed_demo", "--reps", "6", "--opportunities", "300", "--activities", "300", "--months", "5")
    subjects = [Subject.rep(pk) for pk in Rep.objects.values_list("pk", flat=True)]
    subjects += [Subject.team(pk) for pk in Team.objects.values_list("pk", flat=True)] + [COMPANY]
    stored = {
        (Subject(s, pk), m, Period.from_start(kind, start)): (num, den)
        for s, pk, m, kind, start, num, den in KpiSnapshot.objects.values_list(
            "scope", "subject_id", "metric", "period_kind", "period_start", "numerator", "denominator"
        )
    }
    periods = sorted({period for _, _, period in stored})
    compared = mismatched = 0
    for subject in subjects:
        for period in periods:
            for metric, (figure, of_records) in CHECKS.items():
                num, den = stored[subject, metric, period]
                records = list(records_for(metric, period, subject).queryset)
                expected = num if figure == "numerator" else den
                compared += 1
                if Decimal(of_records(records)).quantize(SIX) != expected:
                    mismatched += 1
                    print(subject, metric, period, figure, expected, of_records(records))
    assert compared > 1000
    assert mismatched == 0
