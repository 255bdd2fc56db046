"""Moves in Django's admin: the rep and team forms ask from when, show the history's errors on
their fields without writing anything, and the history itself is read-only."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from teams.models import Membership, Placement, Rep, Team
from tests.bad_input.helpers import assert_unchanged
from tests.factories import RepFactory


@pytest.fixture
def admin_client(client, org):
    client.force_login(org.admin)
    return client


def change_url(obj) -> str:
    return reverse(f"admin:teams_{obj._meta.model_name}_change", args=[obj.pk])


def inline(prefix: str, rows: int) -> dict:
    """The management form of a read-only inline (its rows are not posted back)."""
    return {f"{prefix}-TOTAL_FORMS": rows, f"{prefix}-INITIAL_FORMS": rows}


def rep_form(rep, **changes) -> dict:
    data = {"full_name": rep.full_name, "user": rep.user_id, "team": rep.team_id, "effective": ""}
    return {**data, **inline("memberships", rep.memberships.count()), **changes}


def team_form(team, **changes) -> dict:
    data = {
        "name": team.name,
        "parent": team.parent_id or "",
        "manager": team.manager_id or "",
        "effective": "",
    }
    counts = {
        **inline("placements", team.placements.count()),
        **inline("memberships", team.memberships.count()),
    }
    return {**data, **counts, **changes}


def history(rep):
    return list(
        Membership.objects.filter(rep=rep).order_by("until").values_list("team__name", "since", "until")
    )


def test_the_rep_page_asks_from_when_and_shows_the_history_read_only(org, admin_client):
    org.alice.team = org.west
    org.alice.save(effective=dt.date(2017, 3, 15))

    response = admin_client.get(change_url(org.alice))

    form = response.context["adminform"].form
    assert form["effective"].initial == timezone.localdate()
    assert "today at the latest" in form.fields["effective"].help_text.lower()
    (memberships,) = response.context["inline_admin_formsets"]
    assert [f.original.team.name for f in memberships] == ["East", "West"]
    assert not memberships.has_add_permission and not memberships.has_change_permission


def test_changing_the_team_in_the_admin_moves_the_rep_from_the_effective_date(org, admin_client):
    response = admin_client.post(
        change_url(org.alice), rep_form(org.alice, team=org.west.pk, effective="2017-03-15")
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert history(org.alice) == [("East", None, dt.date(2017, 3, 15)), ("West", dt.date(2017, 3, 15), None)]
    assert Membership.objects.get(rep=org.alice, until=None).recorded_by == org.admin


def test_changing_the_team_without_a_date_moves_the_rep_from_today(org, admin_client):
    admin_client.post(change_url(org.alice), rep_form(org.alice, team=org.west.pk))

    today = timezone.localdate()
    assert history(org.alice) == [("East", None, today), ("West", today, None)]


def test_a_bad_date_is_an_error_on_the_effective_field_and_moves_nobody(org, admin_client):
    org.alice.team = org.west
    org.alice.save(effective=dt.date(2017, 3, 15))

    with assert_unchanged(Membership, Rep):
        response = admin_client.post(
            change_url(org.alice), rep_form(org.alice, team=org.east.pk, effective="2017-03-01")
        )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["effective"]
    assert "2017-03-15" in errors["effective"][0]


def test_changing_a_teams_parent_in_the_admin_places_it_from_the_first_of_the_month(org, admin_client):
    response = admin_client.post(
        change_url(org.east), team_form(org.east, parent=org.west.pk, effective="2017-04-01")
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(
        Placement.objects.filter(team=org.east).order_by("until").values_list("parent__name", "since")
    ) == [
        ("Region", None),
        ("West", dt.date(2017, 4, 1)),
    ]


def test_a_team_placed_mid_month_or_in_a_cycle_shows_the_error_on_its_field(org, admin_client):
    cases = [
        (team_form(org.east, parent=org.west.pk, effective="2017-04-15"), "effective"),
        (team_form(org.region, parent=org.east.pk, effective="2017-04-01"), "parent"),
    ]
    for data, field in cases:
        team = org.east if data["name"] == "East" else org.region
        with assert_unchanged(Placement, Team):
            response = admin_client.post(change_url(team), data)

        assert response.status_code == 200
        assert field in response.context["adminform"].form.errors


def test_the_team_page_shows_its_placements_and_members_over_time(org, admin_client):
    org.alice.team = org.west
    org.alice.save(effective=dt.date(2017, 3, 15))

    response = admin_client.get(change_url(org.east))

    placements, members = response.context["inline_admin_formsets"]
    assert [f.original.parent for f in placements] == [org.region]
    assert [(f.original.rep.full_name, f.original.until) for f in members] == [
        ("Alice", dt.date(2017, 3, 15)),
        ("Bob", None),
    ]
    assert response.context["adminform"].form["effective"].initial == timezone.localdate().replace(day=1)


def test_the_add_pages_ask_no_effective_date(org, admin_client):
    for model in ("rep", "team"):
        response = admin_client.get(reverse(f"admin:teams_{model}_add"))
        assert response.status_code == 200
        assert 'name="effective"' not in response.content.decode()


@pytest.mark.parametrize("model", ["membership", "placement"])
def test_history_is_listed_and_viewed_but_never_added_changed_or_deleted_in_the_admin(
    org, admin_client, model
):
    row = (Membership if model == "membership" else Placement).objects.get(
        **({"rep": org.alice} if model == "membership" else {"team": org.east})
    )

    assert admin_client.get(reverse(f"admin:teams_{model}_changelist")).status_code == 200
    assert admin_client.get(change_url(row)).status_code == 200
    assert admin_client.get(reverse(f"admin:teams_{model}_add")).status_code == 403
    assert admin_client.post(change_url(row), {"since": "2017-01-01"}).status_code == 403
    assert admin_client.get(reverse(f"admin:teams_{model}_delete", args=[row.pk])).status_code == 403


def test_memberships_filter_by_team(org, admin_client):
    response = admin_client.get(
        reverse("admin:teams_membership_changelist"), {"team__id__exact": org.east.pk}
    )

    assert sorted(m.rep.full_name for m in response.context["cl"].result_list) == ["Alice", "Bob"]


def membership_changelist_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("admin:teams_membership_changelist")).status_code == 200
    return len(queries)


def test_the_membership_changelist_runs_constant_queries(org, admin_client):
    membership_changelist_queries(admin_client)  # warm caches (content types, session)
    few = membership_changelist_queries(admin_client)
    for _ in range(30):
        rep = RepFactory(team=org.east)
        rep.team = org.west
        rep.save(effective=dt.date(2017, 3, 1))

    assert membership_changelist_queries(admin_client) == few


def test_a_rep_added_in_the_admin_is_in_their_team_from_the_start(org, admin_client):
    data = {"full_name": "Eve", "user": org.outsider.pk, "team": org.west.pk, **inline("memberships", 0)}

    response = admin_client.post(reverse("admin:teams_rep_add"), data)

    assert response.status_code == 302
    assert history(Rep.objects.get(full_name="Eve")) == [("West", None, None)]
