"""Query strings and buttons on the pages: a bad value is a 404 (no such period, team, metric),
a 400 or a message on the page, never a server error; a refused action writes nothing."""

import pytest

from targets.models import Target

from .helpers import TARGETS, assert_shown, assert_unchanged

pytestmark = pytest.mark.django_db

# (page, query, status): periods outside 1900–2100 used to crash the pages that step a period
# back or forward from the one they show.
BAD_QUERIES = [
    ("/scorecard/{alice}/", "period=9999-12", 404),
    ("/scorecard/{alice}/", "period=0001-01", 404),
    ("/scorecard/{alice}/", "period=1", 404),
    ("/scorecard/{alice}/", "period=2017-13", 404),
    ("/scorecard/{alice}/", "period=%00", 404),
    ("/scorecard/99999999999999999999999/", "", 404),
    ("/dashboard/", "period=9999", 404),
    ("/dashboard/", "period=0001-Q1", 404),
    ("/dashboard/", "team=99999999999999999999999", 404),
    ("/dashboard/", "team=abc&period=2017-Q1", 200),  # no team given: the company
    ("/drill/", "scope=rep&subject={alice}&metric=revenue_won&period=9999-12", 404),
    ("/drill/", "scope=rep&subject={alice}&metric=revenue_won&period=0001-01", 404),
    ("/drill/", "scope=rep&subject=99999999999999999999999&metric=revenue_won&period=2017-03", 404),
    ("/drill/", "scope=team&subject=abc&metric=revenue_won&period=2017-03", 404),
    ("/drill/", "scope=nation&subject=1&metric=revenue_won&period=2017-03", 404),
    ("/drill/", "scope=rep&subject={alice}&metric=profit&period=2017-03", 404),
    ("/drill/", "scope=rep&subject={alice}&metric=revenue_won&period=2017-03&q=%00", 400),
    ("/drill/", "scope=rep&subject={alice}&metric=revenue_won&period=2017-03&q=%00&format=csv", 400),
    ("/drill/", "scope=rep&subject={alice}&metric=revenue_won&period=2017-03&page=-1", 200),
    ("/drill/", "scope=rep&subject={alice}&metric=revenue_won&period=2017-03&page=abc", 200),
    ("/targets/grid/", "year=9999", 404),
    ("/targets/grid/", "year=0", 404),
    ("/targets/grid/", "year=2017-Q1", 404),
    ("/targets/grid/", "metric=%00", 404),
    ("/targets/grid/", "team=abc", 404),
    ("/targets/grid/", "team=99999999999999999999999", 404),
    ("/targets/99999999999999999999999/", "", 404),
    ("/targets/", "page=-1&metric=%00", 200),
]


@pytest.mark.parametrize(("path", "query", "status"), BAD_QUERIES)
def test_a_bad_query_string_is_a_client_error_or_ignored_never_a_server_error(
    org, signed_in, path, query, status
):
    client = signed_in(org.admin)
    url = path.format(alice=org.alice.pk) + "?" + query.format(alice=org.alice.pk)
    assert client.get(url).status_code == status


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("9999-12", "'9999-12' is out of range: use a period from 1900 to 2100."),
        ("2017-13", "'2017-13' is not a period: use 2017-03, 2017-Q1 or 2017."),
    ],
)
def test_the_target_list_says_why_a_period_is_not_one(org, alice_q1, signed_in, label, message):
    response = signed_in(org.east_manager).get("/targets/", {"period": label})
    assert response.status_code == 200
    assert_shown(response, message)


# The spread buttons post and come back to the list (a redirect), with the reason on the page.
BAD_SPREADS = [
    ({"over": "months", "method": "by-moon"}, "'by-moon' is not a way to spread: use even or seasonal."),
    ({"over": "reps"}, "Only a team's target can be spread across reps."),
]


@pytest.mark.parametrize(("data", "message"), BAD_SPREADS)
def test_a_bad_spread_says_why_and_writes_nothing(org, alice_q1, signed_in, data, message):
    client = signed_in(org.east_manager)
    with assert_unchanged(*TARGETS):
        response = client.post(f"/targets/{alice_q1.pk}/spread/", data, follow=True)
    assert response.redirect_chain == [("/targets/", 302)]
    assert_shown(response, message)


def test_a_spread_never_sends_the_user_to_another_site(org, alice_q1, signed_in):
    client = signed_in(org.east_manager)
    response = client.post(
        f"/targets/{alice_q1.pk}/spread/", {"method": "even", "next": "https://evil.example/targets/"}
    )
    assert response.status_code == 302
    assert response.url == "/targets/"
    assert Target.objects.filter(period_kind="month").count() == 3  # the spread itself went ahead


def test_a_target_one_may_not_change_is_a_404_for_every_button(org, signed_in):
    carols = Target.objects.create(
        scope="rep",
        rep=org.carol,
        metric="deals_won",
        period_kind="month",
        period_start="2017-01-01",
        value=5,
    )
    client = signed_in(org.east_manager)
    with assert_unchanged(*TARGETS):
        for action in ("", "delete/", "spread/"):
            assert (
                client.post(f"/targets/{carols.pk}/{action}", {"mode": "absolute", "value": "1"}).status_code
                == 404
            )
