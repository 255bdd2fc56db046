"""Admin for targets and notifications: relative targets and status in the list, every edit kept."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from targets.models import Notification, Target
from tests.factories import TargetFactory


@pytest.fixture
def admin_client_of(client, org):
    client.force_login(org.admin)
    return client


@pytest.fixture
def relative(org):
    return TargetFactory(
        rep=org.alice,
        period_kind="quarter",
        period_start=dt.date(2017, 4, 1),
        value=D("3300"),
        baseline_start=dt.date(2017, 1, 1),
        uplift_pct=D("10"),
        last_status=Target.Status.AT_RISK,
    )


def form_data(target: Target, **changes) -> dict:
    data = {
        "scope": target.scope,
        "rep": target.rep_id or "",
        "team": target.team_id or "",
        "metric": target.metric,
        "period_kind": target.period_kind,
        "period_start": target.period_start.isoformat(),
        "value": str(target.value),
        "baseline_start": target.baseline_start.isoformat() if target.baseline_start else "",
        "uplift_pct": str(target.uplift_pct or ""),
        "created_by": target.created_by_id or "",
    }
    return {**data, **changes}


def test_the_target_list_shows_baseline_uplift_and_status(admin_client_of, relative):
    page = admin_client_of.get(reverse("admin:targets_target_changelist"))
    assert page.status_code == 200
    html = page.content.decode()
    for column in ("column-baseline_start", "column-uplift_pct", "column-last_status"):
        assert column in html
    assert "10.00" in html
    assert "at risk" in html


def test_an_admin_edit_is_kept_in_history_with_the_old_and_new_value(org, admin_client_of, relative):
    url = reverse("admin:targets_target_change", args=[relative.pk])
    response = admin_client_of.post(url, form_data(relative, value="3500", baseline_start="", uplift_pct=""))
    assert response.status_code == 302, response.context["adminform"].form.errors
    relative.refresh_from_db()
    assert (relative.value, relative.baseline_start, relative.uplift_pct) == (D(3500), None, None)
    # The status is the alert check's to write, not the form's.
    assert relative.last_status == Target.Status.AT_RISK
    [change] = relative.history.all()[:1]
    assert (change.history_type, change.history_user, change.value) == ("~", org.admin, D(3500))
    history = admin_client_of.get(reverse("admin:targets_target_history", args=[relative.pk]))
    assert history.status_code == 200
    assert "3500" in history.content.decode()


def test_the_admin_form_refuses_an_unknown_metric_and_a_period_not_starting_there(admin_client_of, relative):
    url = reverse("admin:targets_target_change", args=[relative.pk])
    response = admin_client_of.post(url, form_data(relative, metric="revenue", period_start="2017-04-15"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "metric" in errors
    assert errors["period_start"] == ["2017-04-15 is not the first day of a quarter."]
    relative.refresh_from_db()
    assert relative.value == D("3300")


def test_notifications_are_listed_with_their_user_in_a_few_queries(org, admin_client_of, relative):
    url = reverse("admin:targets_notification_changelist")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            page = admin_client_of.get(url)
        assert page.status_code == 200
        return len(captured)

    Notification.objects.create(user=org.alice.user, target=relative, message="Alice is behind")
    few = queries()
    for user in (org.bob.user, org.carol.user, org.east_manager, org.boss):
        Notification.objects.create(user=user, target=relative, message="Someone is behind")
    assert queries() == few


def test_notifications_filter_by_read_or_not(org, admin_client_of):
    Notification.objects.create(user=org.alice.user, message="not read yet")
    Notification.objects.create(
        user=org.bob.user, message="seen", read_at=dt.datetime(2017, 3, 1, tzinfo=dt.UTC)
    )
    url = reverse("admin:targets_notification_changelist")

    def listed(**params):
        return [n.message for n in admin_client_of.get(url, params).context["cl"].result_list]

    assert listed(read_at__isempty="1") == ["not read yet"]
    assert listed(read_at__isempty="0") == ["seen"]


def test_a_notifications_user_is_picked_by_autocomplete(org, admin_client_of):
    page = admin_client_of.get(reverse("admin:targets_notification_add"))
    assert page.status_code == 200
    assert "admin-autocomplete" in page.content.decode()
    found = admin_client_of.get(
        reverse("admin:autocomplete"),
        {"term": "ali", "app_label": "targets", "model_name": "notification", "field_name": "user"},
    )
    assert [r["text"] for r in found.json()["results"]] == ["alice"]
