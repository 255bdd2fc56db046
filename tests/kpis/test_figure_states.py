"""A figure says what it is: final, provisional (lead conversion while a lead's window may still
be open), undefined (a ratio over 0) or not applicable (CAC for a rep where spend is recorded for
teams only) — never a silent 0. Worked out by hand; both write paths agree (tests/kpis/test_writes)."""

import datetime as dt
from decimal import Decimal as D

from kpis.fields import FigureState
from kpis.models import KpiSnapshot
from kpis.periods import Period
from tests.factories import AcquisitionSpendFactory, LeadFactory

day = dt.date.fromisoformat


def stored(subject, metric, label):
    period = Period.parse(label)
    scope = "company" if subject == "company" else subject._meta.model_name
    return KpiSnapshot.objects.get(
        scope=scope,
        subject_id=0 if subject == "company" else subject.pk,
        metric=metric,
        period_kind=period.kind,
        period_start=period.start,
    )


def test_a_lead_counts_as_converted_only_within_the_window(org, settings, recompute, snapshot):
    settings.LEAD_CONVERSION_WINDOW_DAYS = 90
    LeadFactory(rep=org.alice, created_on=day("2017-01-10"), converted_on=day("2017-04-10"))  # day 90
    LeadFactory(rep=org.alice, created_on=day("2017-01-10"), converted_on=day("2017-04-11"))  # day 91
    LeadFactory(rep=org.alice, created_on=day("2017-01-20"))
    LeadFactory(rep=org.alice, created_on=day("2017-01-25"), converted_on=day("2017-01-25"))
    recompute()
    # 4 leads in January; converted within 90 days: the day-90 one and the same-day one → 2 / 4.
    assert snapshot(org.alice, "lead_conversion_rate", "2017-01") == D("0.5")
    assert stored(org.alice, "lead_conversion_rate", "2017-01").state == FigureState.FINAL


def test_lead_conversion_is_provisional_while_a_window_may_be_open(org, settings, recompute):
    settings.LEAD_CONVERSION_WINDOW_DAYS = 90
    today = dt.date.today()
    this_month = Period.containing("month", today)
    long_ago = Period.containing("month", today - dt.timedelta(days=200))
    LeadFactory(rep=org.alice, created_on=long_ago.start)
    LeadFactory(rep=org.alice, created_on=today, converted_on=today)
    recompute()
    assert stored(org.alice, "lead_conversion_rate", this_month.label).state == FigureState.PROVISIONAL
    assert stored(org.alice, "lead_conversion_rate", this_month.label).value == 1  # so far
    assert stored(org.alice, "lead_conversion_rate", long_ago.label).state == FigureState.FINAL


def test_a_ratio_over_zero_is_undefined_with_no_value(org, deal, recompute):
    deal(org.alice, "won", "100", "2017-01-02", "2017-01-10")
    recompute()
    row = stored(org.bob, "win_rate", "2017-01")  # bob closed nothing
    assert (row.value, row.state) == (None, FigureState.UNDEFINED)
    assert stored(org.alice, "win_rate", "2017-01").state == FigureState.FINAL


def test_cac_does_not_apply_to_reps_while_spend_is_recorded_for_teams_only(org, customer, recompute):
    customer(org.alice, "2017-01-05")
    AcquisitionSpendFactory(team=org.east, spent_on=day("2017-01-15"), amount=D("500"))
    recompute()
    rep = stored(org.alice, "cac", "2017-01")
    assert (rep.value, rep.state) == (None, FigureState.NOT_APPLICABLE)
    team = stored(org.east, "cac", "2017-01")  # 500 / 1
    assert (team.value, team.state) == (D("500"), FigureState.FINAL)


def test_cac_applies_to_reps_once_any_rep_has_spend(org, customer, recompute):
    customer(org.alice, "2017-01-05")
    AcquisitionSpendFactory(team=org.east, spent_on=day("2017-01-15"), amount=D("500"))
    AcquisitionSpendFactory(rep=org.bob, spent_on=day("2017-01-15"), amount=D("50"))
    recompute()
    alice = stored(org.alice, "cac", "2017-01")  # no spend of her own, one customer: a real 0
    assert (alice.value, alice.state) == (0, FigureState.FINAL)
    bob = stored(org.bob, "cac", "2017-01")  # 50 spent, nobody acquired
    assert (bob.value, bob.state) == (None, FigureState.UNDEFINED)


def export(*args):
    from io import StringIO

    from django.core.management import call_command

    out, err = StringIO(), StringIO()
    call_command("export_kpis", *args, stdout=out, stderr=err)
    return out.getvalue().splitlines(), err.getvalue()


def test_export_keeps_its_five_columns_and_adds_the_state_when_asked(org, deal, recompute):
    deal(org.alice, "won", "100", "2017-01-02", "2017-01-10")
    recompute()
    lines, _ = export("--period", "month", "--metric", "win_rate")
    assert lines[0] == "scope,name,metric,period,value"
    assert "rep,Bob,win_rate,2017-01," in lines  # undefined: empty
    lines, _ = export("--period", "month", "--metric", "win_rate", "--states")
    assert lines[0] == "scope,name,metric,period,value,state"
    assert "rep,Bob,win_rate,2017-01,,undefined" in lines
    assert "rep,Alice,win_rate,2017-01,1.000000,final" in lines


def test_export_leaves_out_the_years_of_an_old_fiscal_setting_until_the_next_recompute(
    org, deal, settings, recompute
):
    deal(org.alice, "won", "100", "2017-01-02", "2017-01-10")
    recompute()
    settings.FISCAL_YEAR_START_MONTH = 4
    lines, err = export("--period", "year", "--metric", "revenue_won")
    assert lines == ["scope,name,metric,period,value"]
    assert "run `manage.py recompute_kpis`" in err
