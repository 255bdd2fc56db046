"""A period without data: counts and amounts are 0, ratios are undefined (None), never 0.

alice wins 1000 (Jan 5 → Jan 20) and loses two deals in January; bob creates a lead in March.
February holds nothing at all, and carol has nothing anywhere.
"""

import datetime as dt
from decimal import Decimal as D

import pytest

from kpis import catalogue
from kpis.models import KpiSnapshot
from tests.factories import LeadFactory


@pytest.fixture
def computed(org, deal, recompute):
    deal(org.alice, "won", "1000", "2017-01-05", "2017-01-20")
    deal(org.alice, "lost", "10", "2017-01-05", "2017-01-21")
    deal(org.alice, "lost", "10", "2017-01-05", "2017-01-22")
    LeadFactory(rep=org.bob, created_on=dt.date(2017, 3, 3))
    recompute()


def empty(metric: str):
    """A ratio, or a product of ratios (sales velocity), is undefined without data; a count 0."""
    m = catalogue.get(metric)
    return None if m.is_ratio or m.derived else 0


@pytest.mark.parametrize("metric", catalogue.KEYS)
def test_a_month_without_data_has_zero_counts_and_undefined_ratios(org, computed, snapshot, metric):
    expected = empty(metric)
    for subject in (org.alice, org.bob, org.carol, org.east, org.west, org.region, "company"):
        assert snapshot(subject, metric, "2017-02") == expected, subject


@pytest.mark.parametrize("metric", catalogue.KEYS)
def test_a_rep_without_any_data_has_zero_counts_and_undefined_ratios_in_every_period(
    org, computed, snapshot, metric
):
    expected = empty(metric)
    for label in ("2017-01", "2017-02", "2017-03", "2017-Q1", "2017"):
        assert snapshot(org.carol, metric, label) == expected, label


def test_every_month_between_the_first_and_last_fact_has_snapshots(org, computed):
    starts = set(
        KpiSnapshot.objects.filter(scope="company", period_kind="month").values_list(
            "period_start", flat=True
        )
    )
    assert starts == {dt.date(2017, 1, 1), dt.date(2017, 2, 1), dt.date(2017, 3, 1)}
    # Seven subjects (three reps, three teams, the company) × every metric × every period.
    periods = 3 + 1 + 1
    assert KpiSnapshot.objects.count() == 7 * len(catalogue.KEYS) * periods


def test_values_are_decimals_quantized_to_six_places(org, computed, snapshot):
    assert snapshot(org.alice, "win_rate", "2017-01") == D("0.333333")  # 1 of 3
    for value in KpiSnapshot.objects.exclude(value=None).values_list("value", flat=True):
        assert isinstance(value, D)
        assert value.as_tuple().exponent == -6, value
