"""The target planner: one target at a time, the grid (all cells or none), CSV in and out."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from targets.models import Target
from targets.services import target_save
from tests.browser_posts import post_form

pytestmark = pytest.mark.django_db


def month_targets(rep):
    return {
        t.period_start.strftime("%Y-%m"): t.value
        for t in Target.objects.filter(scope="rep", rep=rep, period_kind="month")
    }


def test_a_manager_sets_a_relative_target(client, sales):
    client.force_login(sales.east_manager)
    response = client.post(
        "/targets/new/",
        {
            "subject": f"rep:{sales.alice.pk}",
            "metric": "revenue_won",
            "period": "2017-Q1",
            "mode": "relative",
            "baseline": "2016-Q4",
            "uplift_pct": "10",
            "value": "999",
        },
    )
    assert response.status_code == 302
    target = Target.objects.get()
    assert (target.value, target.baseline_start, target.uplift_pct) == (
        Decimal("11000"),
        dt.date(2016, 10, 1),
        Decimal("10"),
    )


def test_a_manager_cannot_set_a_target_outside_their_teams(client, sales):
    client.force_login(sales.east_manager)
    response = client.post(
        "/targets/new/",
        {
            "subject": f"rep:{sales.carol.pk}",
            "metric": "revenue_won",
            "period": "2017-Q1",
            "mode": "absolute",
            "value": "5",
        },
    )
    assert response.status_code == 200 and "subject" in response.context["form"].errors
    assert not Target.objects.exists()


def test_the_service_s_errors_show_on_their_fields(client, sales):
    client.force_login(sales.east_manager)
    response = client.post(
        "/targets/new/",
        {
            "subject": f"rep:{sales.alice.pk}",
            "metric": "win_rate",
            "period": "2017-Q1",
            "mode": "absolute",
            "value": "2",
        },
    )
    assert "fraction from 0 to 1" in str(response.context["form"].errors["value"])


def test_editing_keeps_the_subject_and_records_history(client, sales):
    target = target_save(
        user=sales.admin,
        scope="rep",
        subject_id=sales.alice.pk,
        metric="revenue_won",
        period="2017-Q1",
        value="100",
    )
    client.force_login(sales.east_manager)
    response = client.post(f"/targets/{target.pk}/", {"mode": "absolute", "value": "150"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.value == Decimal("150") and target.history.count() == 2


def test_a_manager_cannot_edit_a_target_outside_their_teams(client, sales):
    target = target_save(
        user=sales.admin,
        scope="rep",
        subject_id=sales.carol.pk,
        metric="revenue_won",
        period="2017-Q1",
        value="100",
    )
    client.force_login(sales.east_manager)
    assert client.get(f"/targets/{target.pk}/").status_code == 404
    assert client.post(f"/targets/{target.pk}/delete/").status_code == 404
    client.force_login(sales.carol.user)  # sees her target, may not change it
    assert client.get(f"/targets/{target.pk}/").status_code == 403


def test_spreading_a_quarter_over_its_months(client, sales):
    target = target_save(
        user=sales.admin,
        scope="rep",
        subject_id=sales.alice.pk,
        metric="revenue_won",
        period="2017-Q1",
        value="11000",
    )
    client.force_login(sales.east_manager)
    client.post(f"/targets/{target.pk}/spread/", {"method": "even"})
    assert month_targets(sales.alice) == {
        "2017-01": Decimal("3666.67"),  # in cents that add up to 11000
        "2017-02": Decimal("3666.67"),
        "2017-03": Decimal("3666.66"),
    }


def test_spreading_a_team_target_over_its_reps(client, sales):
    target = target_save(
        user=sales.admin,
        scope="team",
        subject_id=sales.east.pk,
        metric="revenue_won",
        period="2017-Q1",
        value="9000",
    )
    client.force_login(sales.east_manager)
    client.post(f"/targets/{target.pk}/spread/", {"over": "reps"})
    assert set(Target.objects.filter(scope="rep").values_list("rep__full_name", "value")) == {
        ("Alice", Decimal("4500")),
        ("Bob", Decimal("4500")),
    }


def test_the_target_list_shows_only_visible_targets(client, sales):
    for rep in (sales.alice, sales.carol):
        target_save(
            user=sales.admin,
            scope="rep",
            subject_id=rep.pk,
            metric="revenue_won",
            period="2017-Q1",
            value="1",
        )
    client.force_login(sales.east_manager)
    assert [t.rep for t, _, _ in client.get("/targets/").context["rows"]] == [sales.alice]
    client.force_login(sales.carol.user)
    assert [t.rep for t, _, _ in client.get("/targets/").context["rows"]] == [sales.carol]


# --- the grid


def grid_url(sales):
    return f"/targets/grid/?team={sales.east.pk}&metric=revenue_won&year=2017"


def test_the_grid_saves_every_cell_at_once(client, sales):
    client.force_login(sales.east_manager)
    response = client.post(
        grid_url(sales), {f"c-{sales.alice.pk}-2017-01": "100", f"c-{sales.bob.pk}-2017-02": "200.5"}
    )
    assert response.status_code == 302
    assert month_targets(sales.alice) == {"2017-01": Decimal("100")}
    assert month_targets(sales.bob) == {"2017-02": Decimal("200.5")}


def test_the_grid_marks_each_bad_cell_and_saves_nothing(client, sales):
    target_save(
        user=sales.admin,
        scope="rep",
        subject_id=sales.alice.pk,
        metric="revenue_won",
        period="2017-03",
        value="50",
    )
    client.force_login(sales.east_manager)
    alice, bob = sales.alice.pk, sales.bob.pk
    response = client.post(
        grid_url(sales),
        {
            f"c-{alice}-2017-01": "100",
            f"c-{alice}-2017-02": "abc",
            f"c-{bob}-2017-01": "-5",
            f"c-{alice}-2017-03": "",
        },
    )
    assert response.status_code == 400
    errors = {c.name: c.error for row in response.context["cells"] for c in row if c.error}
    assert errors == {
        f"c-{alice}-2017-02": "'abc' is not a number.",
        f"c-{bob}-2017-01": "A revenue won target cannot be negative.",
    }
    cells = {c.name: c.value for row in response.context["cells"] for c in row}
    assert cells[f"c-{alice}-2017-01"] == "100"  # what was typed stays, to be fixed
    # Nothing saved: not the good cell, not the deletion of the emptied one.
    assert month_targets(sales.alice) == {"2017-03": Decimal("50")}
    assert month_targets(sales.bob) == {}
    assert 'aria-invalid="true"' in response.content.decode()


def test_emptying_a_grid_cell_removes_its_target(client, sales):
    target_save(
        user=sales.admin,
        scope="rep",
        subject_id=sales.alice.pk,
        metric="revenue_won",
        period="2017-03",
        value="50",
    )
    client.force_login(sales.east_manager)
    client.post(grid_url(sales), {f"c-{sales.alice.pk}-2017-03": ""})
    assert month_targets(sales.alice) == {}


def test_the_grid_is_limited_to_teams_the_manager_runs(client, sales):
    client.force_login(sales.east_manager)
    assert client.get(f"/targets/grid/?team={sales.west.pk}").status_code == 404
    reps = {row[0].rep for row in client.get(grid_url(sales)).context["cells"]}
    assert reps == {sales.alice, sales.bob}


def test_a_large_team_saves_its_whole_grid(big_team):
    # As a browser posts it: with the CSRF check on, CsrfViewMiddleware reads (and counts) the
    # POST before the view. Django's default limit, 1,000 fields, would refuse this grid.
    client = Client(enforce_csrf_checks=True)
    client.force_login(big_team.manager)
    url = f"/targets/grid/?team={big_team.team.pk}&metric=revenue_won&year=2017"
    page = client.get(url)
    cells = [cell for row in page.context["cells"] for cell in row]
    values = {cell.name: f"{1000 + i}.5" for i, cell in enumerate(cells)}
    assert len(values) == len(big_team.reps) * 12 > 1000

    response = post_form(client, url, {**values, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})

    assert response.status_code == 302, response.content[:300]
    saved = {
        (t.rep_id, t.period_start.strftime("%Y-%m")): t.value
        for t in Target.objects.filter(scope="rep", rep__team=big_team.team, metric="revenue_won")
    }
    assert saved == {(cell.rep.pk, cell.month.label): Decimal(values[cell.name]) for cell in cells}
    # And the page shows them.
    shown = {c.name: c.value for row in client.get(url).context["cells"] for c in row}
    assert shown == values


def test_a_large_grid_without_the_csrf_token_is_still_refused(big_team):
    client = Client(enforce_csrf_checks=True)
    client.force_login(big_team.manager)
    url = f"/targets/grid/?team={big_team.team.pk}&metric=revenue_won&year=2017"
    client.get(url)
    values = {f"c-{rep.pk}-2017-{m:02d}": "5" for rep in big_team.reps for m in range(1, 13)}

    response = post_form(client, url, values)

    assert response.status_code == 403 and b"CSRF" in response.content
    assert not Target.objects.filter(rep__team=big_team.team).exists()


# --- CSV


def test_targets_download_as_csv(client, sales):
    target_save(
        user=sales.admin,
        scope="rep",
        subject_id=sales.alice.pk,
        metric="revenue_won",
        period="2017-Q1",
        value="11000",
    )
    client.force_login(sales.east_manager)
    body = client.get("/targets/export.csv").content.decode()
    assert body.splitlines()[1] == "rep,Alice,revenue_won,2017-Q1,11000.000000,,"


def upload(text):
    return SimpleUploadedFile("targets.csv", text.encode(), content_type="text/csv")


def test_an_upload_is_previewed_then_imported_on_confirmation(client, sales):
    client.force_login(sales.east_manager)
    text = "scope,name,metric,period,value\nrep,Alice,revenue_won,2017-Q1,500\nrep,Bob,deals_won,2017-Q1,4\n"
    response = client.post("/targets/import/", {"kind": "targets", "file": upload(text)})
    preview = response.context["preview"]
    assert (preview["count"], preview["errors"]) == (2, [])
    assert not Target.objects.exists()  # a preview keeps nothing
    client.post("/targets/import/", {"confirm": "1"})
    assert Target.objects.count() == 2


def test_an_upload_with_bad_rows_lists_them_and_imports_nothing(client, sales):
    client.force_login(sales.east_manager)
    text = (
        "scope,name,metric,period,value\nrep,Alice,revenue_won,2017-Q1,500\nrep,Carol,revenue_won,2017-Q1,4\n"
    )
    response = client.post("/targets/import/", {"kind": "targets", "file": upload(text)})
    assert [e.split(":")[0] for e in response.context["preview"]["errors"]] == ["line 3"]
    assert b"Import 2 rows" not in response.content
    assert client.post("/targets/import/", {"confirm": "1"}).status_code == 302
    assert not Target.objects.exists()


def test_the_admin_import_page_takes_the_same_files(client, sales):
    client.force_login(sales.admin)
    text = "scope,name,metric,period,value\nteam,East,revenue_won,2017-Q1,500\n"
    client.post("/ops/import/", {"kind": "targets", "file": upload(text)})
    client.post("/ops/import/", {"confirm": "1"})
    assert Target.objects.get().team == sales.east
