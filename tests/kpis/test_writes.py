"""The two ways a snapshot is written give the same digits.

The bulk recompute hands components to the database, which turns them into every metric with
the catalogue's linear forms in SQL (kpis.engine.store._metrics_sql); the incremental paths expand
them in Python and write the pairs. On PostgreSQL these are two evaluators of one definition, so
each metric is written both ways here, for two subjects, and the rows must be equal — including
a rounding tie at the seventh place, a negative figure, a scale read from settings, a ratio over
zero, and sums with more places than the column keeps.
"""

import datetime as dt
from decimal import Decimal as D

import pytest

from kpis import catalogue
from kpis.engine.evaluate import rounded
from kpis.engine.store import write_components, write_pairs
from kpis.models import KpiSnapshot

pytestmark = pytest.mark.django_db

START = dt.date(2026, 1, 1)
COMPONENTS = {
    "won_amount": D("1000.005"),  # the sum of weighted amounts can carry more places
    "won_count": D(1),
    "lost_count": D(127),  # win rate 1/128 = 0.0078125: a tie at the seventh place
    "cycle_days": D(100),
    "cycle_count": D(3),  # 33.333333…
    "nps_net": D(-7),  # a negative score
    "nps_responses": D(9),
    "customer_revenue_12m": D("333.33"),
    "churned_12m": D(3),
    "churned_from_base": D(2),
    "spend": D(50),
    "new_customers": D(0),  # CAC over zero: undefined, never 0
    "weighted_pipeline": D("12.3456785"),  # a tie at the seventh place, on a plain figure
    "forecast_hit": D(900),
    "forecast_base": D("1000.005"),
}


def stored(subject_id):
    return {
        s.metric: (s.numerator, s.denominator, s.value)
        for s in KpiSnapshot.objects.filter(scope="rep", subject_id=subject_id)
    }


def test_components_written_by_the_database_equal_pairs_written_from_python(settings):
    settings.GROSS_MARGIN = D("0.35")
    write_components([(("rep", 1), "month", START, COMPONENTS)])
    pairs = catalogue.pairs(COMPONENTS)
    write_pairs([(("rep", 2), key, "month", START, pair) for key, pair in pairs.items()])

    by_database, by_python = stored(1), stored(2)
    assert set(by_database) == set(catalogue.KEYS) == set(by_python)
    assert by_database == by_python
    # …and both are the hand-worked figures, rounded half away from zero.
    assert by_database["win_rate"] == (D(1), D(128), D("0.007813"))
    assert by_database["weighted_pipeline_value"] == (D("12.345679"), None, D("12.345679"))
    assert by_database["sales_cycle_days"][2] == D("33.333333")
    assert by_database["nps"] == (D(-700), D(9), D("-77.777778"))
    assert by_database["cltv"] == (D("116.6655"), D(3), D("38.8885"))
    assert by_database["cac"] == (D(50), D(0), None)
    assert by_database["revenue_won"] == (D("1000.005"), None, D("1000.005"))


def test_rounding_is_half_away_from_zero():
    assert rounded(D("0.0000005")) == D("0.000001")
    assert rounded(D("-0.0000005")) == D("-0.000001")
    assert rounded(D("0.00000049")) == D("0.000000")
    assert rounded(None) is None


def test_unchanged_components_write_nothing_and_a_changed_one_rewrites_its_metrics():
    write_components([(("rep", 1), "month", START, COMPONENTS)])
    assert write_components([(("rep", 1), "month", START, COMPONENTS)]) == 0
    changed = {**COMPONENTS, "calls": D(4)}
    assert write_components([(("rep", 1), "month", START, changed)]) == 1
    assert stored(1)["calls_made"] == (D(4), None, D(4))
