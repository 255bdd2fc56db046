"""The grid editor (reps × months of one metric): a bad cell is marked with its reason, the
answer is a 400, and nothing of the whole grid is saved. A post with more fields than any form
needs (DATA_UPLOAD_MAX_NUMBER_FIELDS) is refused whole."""

import pytest
from django.test import Client

from targets.models import Target
from targets.services import target_save
from tests.browser_posts import post_form

from .helpers import TARGETS, assert_unchanged

pytestmark = pytest.mark.django_db

NUL = "\x00"


@pytest.fixture
def grid(org, signed_in):
    """East's revenue grid for 2017, as its manager; Alice has 100 for January."""
    target_save(
        user=org.east_manager,
        scope="rep",
        subject_id=org.alice.pk,
        metric="revenue_won",
        period="2017-01",
        value="100",
    )
    return signed_in(org.east_manager), f"/targets/grid/?team={org.east.pk}&metric=revenue_won&year=2017"


BAD_CELLS = [
    ("12 apples", "'12 apples' is not a number."),
    ("1e15", "A target must be below 100,000,000,000,000."),
    ("1e50", "A target must be below 100,000,000,000,000."),
    ("9" * 300, "A target must be below 100,000,000,000,000."),
    ("NaN", "A target must be a finite number."),
    ("sNaN", "A target must be a finite number."),
    ("-Infinity", "A target must be a finite number."),
    (f"5{NUL}", f"'5{NUL}' is not a number."),
    ("-0.01", "A revenue won target cannot be negative."),
]


@pytest.mark.parametrize(("value", "reason"), BAD_CELLS)
def test_a_bad_cell_is_marked_and_no_cell_is_saved(org, grid, value, reason):
    client, url = grid
    alice, bob = org.alice.pk, org.bob.pk
    with assert_unchanged(*TARGETS):
        response = client.post(
            url, {f"c-{alice}-2017-01": "150", f"c-{alice}-2017-02": "200", f"c-{bob}-2017-03": value}
        )
    assert response.status_code == 400
    errors = {c.name: c.error for row in response.context["cells"] for c in row if c.error}
    assert errors == {f"c-{bob}-2017-03": reason}
    assert f'id="c-{bob}-2017-03-err"' in response.content.decode()


def test_a_rate_over_one_is_marked_on_a_rate_grid(org, grid):
    client, _ = grid
    url = f"/targets/grid/?team={org.east.pk}&metric=win_rate&year=2017"
    with assert_unchanged(*TARGETS):
        response = client.post(url, {f"c-{org.alice.pk}-2017-05": "30"})
    assert response.status_code == 400
    assert "Win rate is a fraction from 0 to 1 (0.3 = 30%)." in response.content.decode()


def test_cells_for_a_rep_outside_the_team_are_ignored(org, grid):
    # The grid's cells are the team's reps × the year's months, built on the server: a posted
    # name for anyone else (Carol is west's) matches no cell.
    client, url = grid
    response = client.post(url, {f"c-{org.alice.pk}-2017-01": "100", f"c-{org.carol.pk}-2017-01": "999"})
    assert response.status_code == 302
    assert not Target.objects.filter(rep=org.carol).exists()


@pytest.mark.parametrize(
    "query",
    ["team={west}&year=2017", "team=abc&year=2017", "year=9999", "year=2017&metric=profit"],
)
def test_a_grid_one_may_not_edit_or_that_does_not_exist_is_a_404(org, grid, query):
    client, _ = grid
    with assert_unchanged(*TARGETS):
        response = client.post(
            "/targets/grid/?" + query.format(west=org.west.pk), {f"c-{org.carol.pk}-2017-01": "5"}
        )
    assert response.status_code == 404


# --- more fields than any form needs


def test_a_post_with_more_fields_than_any_grid_is_a_400_page_and_saves_nothing(big_team, settings):
    client = Client(enforce_csrf_checks=True)  # as a browser: CSRF reads the POST first
    client.force_login(big_team.manager)
    url = f"/targets/grid/?team={big_team.team.pk}&metric=revenue_won&year=2017"
    client.get(url)  # the CSRF cookie
    cells = {f"c-{rep.pk}-2017-{m:02d}": "5" for rep in big_team.reps for m in range(1, 13)}
    junk = {f"x{i}": "1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS)}
    token = {"csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    with assert_unchanged(*TARGETS):
        response = post_form(client, url, {**cells, **junk, **token})
    assert response.status_code == 400
    assert "Nothing was saved." in response.content.decode()
