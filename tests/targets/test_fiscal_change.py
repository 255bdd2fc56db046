"""Changing FISCAL_YEAR_START_MONTH leaves targets keyed to quarters and years that begin on days
which begin no period now (issue 16): they are reported and kept for an admin, never a crash —
every page, the API and the CSV export go on with the targets whose periods still exist."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.test import override_settings
from django.urls import reverse

from kpis.periods import Period
from targets.models import Target

pytestmark = pytest.mark.django_db


@pytest.fixture
def calendar_targets(org, set_target):
    """Set under calendar years: a month, a quarter and a year target for Alice, and a relative
    quarter target whose baseline is a calendar quarter."""
    with override_settings(FISCAL_YEAR_START_MONTH=1):
        month = set_target(org.east_manager, org.alice, "revenue_won", Period.parse("2026-11"), D("100"))
        quarter = set_target(org.east_manager, org.alice, "revenue_won", Period.parse("2026-Q4"), D("300"))
        year = set_target(org.east_manager, org.alice, "deals_won", Period.parse("2026"), D("12"))
    return month, quarter, year


@override_settings(FISCAL_YEAR_START_MONTH=2)
def test_targets_of_periods_the_new_setting_does_not_make_are_set_aside(calendar_targets):
    month, quarter, year = calendar_targets
    # Quarters now begin in Feb, May, Aug, Nov; years in February: October 1st begins neither.
    assert list(Target.objects.values_list("pk", flat=True)) == [month.pk]
    assert set(Target.every.stale().values_list("pk", flat=True)) == {quarter.pk, year.pk}
    assert "not a period now" in str(Target.every.get(pk=year.pk))


@override_settings(FISCAL_YEAR_START_MONTH=4)
def test_a_quarter_that_still_begins_one_stays_tracked(calendar_targets):
    """April-start fiscal quarters begin in Jan, Apr, Jul, Oct: 2026-10-01 is still one."""
    month, quarter, _ = calendar_targets
    assert set(Target.objects.values_list("pk", flat=True)) == {month.pk, quarter.pk}
    assert Target.objects.get(pk=quarter.pk).period.label == "2027-Q3"  # fiscal 2027 ends in March


@override_settings(FISCAL_YEAR_START_MONTH=2)
def test_every_page_the_api_and_the_export_go_on_and_the_list_says_so(client, org, calendar_targets):
    client.force_login(org.east_manager)
    for url in [
        reverse("targets:list"),
        reverse("targets:dashboard") + "?period=2026-11",
        reverse("targets:scorecard", args=[org.alice.pk]) + "?period=2026-11",
        reverse("targets:export"),
        "/api/v1/targets/",
    ]:
        assert client.get(url).status_code == 200, url
    listed = client.get(reverse("targets:list")).content.decode()
    assert "2 targets belong to quarters or years that the fiscal year setting no longer makes" in listed
    assert "Ask an admin" in listed
    exported = client.get(reverse("targets:export")).content.decode()
    assert "2026-11" in exported and "deals_won" not in exported


@override_settings(FISCAL_YEAR_START_MONTH=2)
def test_an_admin_finds_them_in_admin_and_can_delete_them(client, org, calendar_targets):
    _, quarter, year = calendar_targets
    client.force_login(org.admin)
    page = client.get(reverse("admin:targets_target_changelist") + "?stale=yes")
    assert page.status_code == 200
    assert page.context["cl"].result_count == 2
    assert client.get(reverse("admin:targets_target_change", args=[year.pk])).status_code == 200
    deleted = client.post(reverse("admin:targets_target_delete", args=[year.pk]), {"post": "yes"})
    assert deleted.status_code == 302
    assert not Target.every.filter(pk=year.pk).exists()
    assert dt.date(2026, 10, 1) == Target.every.get(pk=quarter.pk).period_start
