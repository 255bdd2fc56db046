"""Forms: a bad value re-renders the form (200) with the message on the field at fault, and
writes nothing. The target form (new and edit) and the scorecard's forecast form."""

import pytest

from kpis.models import ForecastSubmission
from targets.models import Target

from .helpers import TARGETS, assert_shown, assert_unchanged

pytestmark = pytest.mark.django_db

NUL = "\x00"


def target_post(org, **changes):
    data = {
        "subject": f"rep:{org.alice.pk}",
        "metric": "revenue_won",
        "period": "2017-Q2",
        "mode": "absolute",
        "value": "1000",
    }
    return {**data, **changes}


# (case, changes to a valid POST, field at fault, what its message says)
BAD_TARGETS = [
    ("no subject", {"subject": ""}, "subject", "This field is required."),
    ("a rep of another team", {"subject": "rep:{carol}"}, "subject", "Select a valid choice."),
    ("an unknown rep", {"subject": "rep:99999999"}, "subject", "Select a valid choice."),
    ("the company, as a manager", {"subject": "company:0"}, "subject", "Select a valid choice."),
    ("a subject with a NUL", {"subject": f"rep:{{alice}}{NUL}"}, "subject", "Select a valid choice."),
    ("no metric", {"metric": ""}, "metric", "This field is required."),
    ("an unknown metric", {"metric": "revenue_lost"}, "metric", "Select a valid choice."),
    ("no period", {"period": ""}, "period", "This field is required."),
    ("month 13", {"period": "2017-13"}, "period", "'2017-13' is not a period"),
    ("quarter 5", {"period": "2017-Q5"}, "period", "'2017-Q5' is not a period"),
    ("a year out of range", {"period": "9999-12"}, "period", "'9999-12' is out of range"),
    ("year 1", {"period": "0001-01"}, "period", "'0001-01' is out of range"),
    ("an overlong period", {"period": "2017-01" * 50}, "period", "at most 10 characters"),
    ("a period with a NUL", {"period": f"2017-0{NUL}"}, "period", "Null characters are not allowed."),
    ("an unknown mode", {"mode": "sideways"}, "mode", "Select a valid choice."),
    ("no value", {"value": ""}, "value", "Give a value, or a baseline period with an uplift."),
    ("a word", {"value": "lots"}, "value", "Enter a number."),
    ("a negative revenue", {"value": "-5"}, "value", "target cannot be negative"),
    ("a rate over 1", {"metric": "win_rate", "value": "2"}, "value", "is a fraction from 0 to 1"),
    ("an NPS over 100", {"metric": "nps", "value": "101"}, "value", "NPS runs from -100 to 100."),
    ("too large to store", {"value": "1e15"}, "value", "A target must be below 100,000,000,000,000."),
    ("1e50", {"value": "1e50"}, "value", "A target must be below 100,000,000,000,000."),
    ("300 digits", {"value": "9" * 300}, "value", "A target must be below 100,000,000,000,000."),
    ("not a number", {"value": "NaN"}, "value", "Enter a number."),
    ("infinity", {"value": "-Infinity"}, "value", "Enter a number."),
    ("a value with a NUL", {"value": f"1{NUL}"}, "value", "Enter a number."),
    ("relative, no baseline", {"mode": "relative", "uplift_pct": "10"}, "baseline", "needs both"),
    (
        "relative, a baseline of another kind",
        {"mode": "relative", "baseline": "2017-03", "uplift_pct": "10"},
        "baseline",
        "The baseline must be a quarter",
    ),
    (
        "relative, a baseline out of range",
        {"mode": "relative", "baseline": "0001-Q1", "uplift_pct": "10"},
        "baseline",
        "'0001-Q1' is out of range",
    ),
    (
        "relative, a baseline without figures",
        {"mode": "relative", "baseline": "2017-Q1", "uplift_pct": "10"},
        "baseline",
        "No revenue won figure for Alice in 2017-Q1 to grow from.",
    ),
    (
        "relative, a word for uplift",
        {"mode": "relative", "baseline": "2017-Q1", "uplift_pct": "ten"},
        "uplift_pct",
        "Enter a number.",
    ),
    (
        "relative, an uplift too large to store",
        {"mode": "relative", "baseline": "2017-Q1", "uplift_pct": "100000"},
        "uplift_pct",
        "no more than 5 digits before the decimal point",
    ),
    (
        "a second target for the same subject, metric and period",
        {"period": "2017-Q1"},
        "period",
        "Alice already has a revenue won target for 2017-Q1.",
    ),
]


@pytest.mark.parametrize(
    ("changes", "field", "message"), [c[1:] for c in BAD_TARGETS], ids=[c[0] for c in BAD_TARGETS]
)
def test_a_bad_new_target_is_refused_on_its_field_and_nothing_is_written(
    org, alice_q1, signed_in, changes, field, message
):
    client = signed_in(org.east_manager)
    ids = {"alice": org.alice.pk, "carol": org.carol.pk}
    data = target_post(org, **{k: v.format(**ids) for k, v in changes.items()})
    with assert_unchanged(*TARGETS):
        response = client.post("/targets/new/", data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert_shown(response, errors[field][0])


BAD_EDITS = [
    ({"mode": "absolute", "value": "-1"}, "value", "target cannot be negative"),
    ({"mode": "absolute", "value": "1e50"}, "value", "A target must be below"),
    ({"mode": "absolute", "value": ""}, "value", "Give a value"),
    ({"mode": "upside-down", "value": "5"}, "mode", "Select a valid choice."),
    ({"mode": "relative", "baseline": "2016", "uplift_pct": "5"}, "baseline", "must be a quarter"),
]


@pytest.mark.parametrize(("data", "field", "message"), BAD_EDITS)
def test_a_bad_edit_leaves_the_target_as_it_was(org, alice_q1, signed_in, data, field, message):
    client = signed_in(org.east_manager)
    with assert_unchanged(*TARGETS):
        response = client.post(f"/targets/{alice_q1.pk}/", data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])


def test_an_edit_cannot_move_a_target_to_another_subject_metric_or_period(org, alice_q1, signed_in):
    # The three are disabled on the edit form: whatever is posted for them is ignored.
    client = signed_in(org.east_manager)
    response = client.post(
        f"/targets/{alice_q1.pk}/",
        {
            "subject": f"rep:{org.carol.pk}",
            "metric": "win_rate",
            "period": "9999-12",
            "mode": "absolute",
            "value": "1500",
        },
    )
    assert response.status_code == 302
    target = Target.objects.get()
    assert (target.rep, target.metric, target.period.label, target.value) == (
        org.alice,
        "revenue_won",
        "2017-Q1",
        1500,
    )


def forecast_post(**changes):
    return {"period": "", "category": "commit", "amount": "5000", **changes}


BAD_FORECASTS = [
    ({"amount": ""}, "amount", "This field is required."),
    ({"amount": "-1"}, "amount", "greater than or equal to 0"),
    ({"amount": "a lot"}, "amount", "Enter a number."),
    ({"amount": "1e50"}, "amount", "no more than 14 digits"),
    ({"amount": "NaN"}, "amount", "Enter a number."),
    ({"amount": f"5{NUL}"}, "amount", "Enter a number."),
    ({"category": "hope"}, "category", "Select a valid choice."),
    ({"period": "2017-01"}, "period", "Select a valid choice."),
    ({"period": "9999-12"}, "period", "Select a valid choice."),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_FORECASTS)
def test_a_bad_forecast_is_refused_on_its_field_and_nothing_is_written(
    org, signed_in, changes, field, message
):
    client = signed_in(org.alice.user)
    coming = client.get("/scorecard/").context["form"].fields["period"].initial
    data = forecast_post(period=coming) | changes
    with assert_unchanged(ForecastSubmission):
        response = client.post("/scorecard/", data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors[field]), errors
    assert_shown(response, errors[field][0])


def test_a_forecast_for_a_rep_one_may_not_see_is_a_404_and_writes_nothing(org, signed_in):
    client = signed_in(org.alice.user)
    coming = client.get("/scorecard/").context["form"].fields["period"].initial
    with assert_unchanged(ForecastSubmission):
        response = client.post(f"/scorecard/{org.bob.pk}/", forecast_post(period=coming))
    assert response.status_code == 404
