"""The pages' broken basics (issue 18): each test failed before its fix."""

from decimal import Decimal

import pytest
from django.template import loader

from targets.models import Target
from targets.services import target_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_q1(sales):
    return target_save(
        user=sales.admin,
        scope="rep",
        subject_id=sales.alice.pk,
        metric="revenue_won",
        period="2017-Q1",
        value="9000",
    )


def test_delete_asks_first_and_deletes_only_when_confirmed(client, sales, alices_q1):
    client.force_login(sales.east_manager)
    page = client.get(f"/targets/{alices_q1.pk}/delete/")
    assert page.status_code == 200
    assert "Delete this target?" in page.content.decode()
    assert Target.objects.filter(pk=alices_q1.pk).exists()
    assert client.post(f"/targets/{alices_q1.pk}/delete/").status_code == 302
    assert not Target.objects.filter(pk=alices_q1.pk).exists()


@pytest.mark.parametrize("debug", [True, False])
def test_a_missing_page_is_branded_in_every_mode(client, sales, settings, debug):
    settings.DEBUG = debug
    client.force_login(sales.alice.user)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Nothing here" in html and "salesperf" in html
    assert "Django tried these URL patterns" not in html


@pytest.mark.parametrize("debug", [True, False])
def test_a_forbidden_page_is_branded_in_every_mode(client, sales, settings, debug):
    settings.DEBUG = debug
    client.force_login(sales.alice.user)
    response = client.get("/targets/new/")  # reps set no targets
    assert response.status_code == 403
    assert "You may not do this" in response.content.decode()


def test_the_server_error_page_is_branded():
    assert "Something went wrong on our side" in loader.get_template("500.html").render()


def test_the_target_form_accepts_thousands_separators(client, sales):
    client.force_login(sales.east_manager)
    response = client.post(
        "/targets/new/",
        {
            "subject": f"rep:{sales.alice.pk}",
            "metric": "revenue_won",
            "period": "2017-Q2",
            "mode": "absolute",
            "value": "1,500",
        },
    )
    assert response.status_code == 302
    assert Target.objects.get().value == Decimal(1500)


def test_the_grid_accepts_1_500_and_1500_and_refuses_1_5(client, sales):
    client.force_login(sales.east_manager)
    url = f"/targets/grid/?team={sales.east.pk}&metric=revenue_won&year=2017"
    alice, bob = sales.alice.pk, sales.bob.pk
    bad = client.post(url, {f"c-{alice}-2017-01": "1,5"})
    assert bad.status_code == 400 and not Target.objects.exists()
    response = client.post(url, {f"c-{alice}-2017-01": "1,500", f"c-{bob}-2017-01": "1500"})
    assert response.status_code == 302
    assert sorted(Target.objects.values_list("value", flat=True)) == [Decimal(1500)] * 2


def test_the_drill_down_steps_to_the_periods_around_it_and_switches_kind(client, sales):
    client.force_login(sales.east_manager)
    url = f"/drill/?scope=rep&subject={sales.alice.pk}&metric=revenue_won&period=2017-02"
    html = client.get(url).content.decode()
    # the ‹ › links said period= (empty)
    assert "period=2017-01" in html and "period=2017-03" in html
    assert "period=&" not in html and 'period="' not in html
    assert "period=2017-Q1" in html and "period=2017" in html  # month / quarter / year
