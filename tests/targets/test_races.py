"""Two saves of the same target at once (issue 14, item 5): the one that loses the race is told
"changed by someone else, reload" — the form again, the grid unsaved (409), the import listed
with the reason, a 400 from the API — never a 500 from the unique constraint.

The race is made deterministic: `a_competitor` writes the same target just after this request
has looked for it, before its insert, as a second request committing between the two would.
Written on the same connection, the competitor's row goes with this request's rollback: what
the tests see kept is what this request kept (nothing).
"""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from targets import services
from targets.models import Target
from targets.services import CONFLICT, target_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def a_competitor(monkeypatch):
    """From now on, the first target a save looks for and does not find is written by someone
    else (value 1) right after the look, before the save's insert."""
    existing = services._existing

    def existing_then_compete(changes):
        found = existing(changes)
        new = [c for c in changes if c.key not in found]
        if new and not Target.objects.filter(value=1).exists():
            change = new[0]
            competitor = Target(
                scope=change.scope,
                rep_id=change.subject_id if change.scope == "rep" else None,
                team_id=change.subject_id if change.scope == "team" else None,
                metric=change.metric,
                period_kind=change.period.kind,
                period_start=change.period.start,
                value=1,
            )
            Target.objects.bulk_create([competitor])
        return found

    return lambda: monkeypatch.setattr(services, "_existing", existing_then_compete)


def values():
    return sorted((t.rep.full_name, t.period_start.isoformat(), t.value) for t in Target.objects.all())


def test_the_target_form_answers_a_lost_race_with_the_form_and_a_reload_hint(org, client, a_competitor):
    client.force_login(org.east_manager)
    a_competitor()

    response = client.post(
        "/targets/new/",
        {
            "subject": f"rep:{org.alice.pk}",
            "metric": "revenue_won",
            "period": "2017-Q1",
            "mode": "absolute",
            "value": "500",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [CONFLICT]
    assert values() == []


def test_a_grid_that_loses_the_race_saves_no_cell_and_says_so(org, client, a_competitor):
    target_save(
        user=org.east_manager,
        scope="rep",
        subject_id=org.alice.pk,
        metric="revenue_won",
        period="2017-01",
        value="100",
    )
    client.force_login(org.east_manager)
    a_competitor()

    response = client.post(
        f"/targets/grid/?team={org.east.pk}&metric=revenue_won&year=2017",
        {f"c-{org.alice.pk}-2017-01": "150", f"c-{org.bob.pk}-2017-02": "200"},
    )

    assert response.status_code == 409
    assert CONFLICT in response.content.decode()
    assert values() == [("Alice", "2017-01-01", Decimal(100))]


def test_an_import_confirmed_after_someone_else_wrote_a_row_is_not_kept(org, client, a_competitor):
    client.force_login(org.east_manager)
    text = (
        "scope,name,metric,period,value\nrep,Alice,revenue_won,2017-01,500\nrep,Bob,revenue_won,2017-01,400\n"
    )
    upload = SimpleUploadedFile("targets.csv", text.encode(), content_type="text/csv")
    client.post("/targets/import/", {"kind": "targets", "file": upload})
    a_competitor()

    response = client.post("/targets/import/", {"confirm": "1"})

    assert response.status_code == 200
    assert response.context["preview"]["errors"] == [CONFLICT]
    assert values() == []


def test_the_api_answers_a_lost_race_with_a_400(org, a_competitor):
    api = APIClient()
    api.force_authenticate(org.east_manager)
    a_competitor()

    response = api.post(
        "/api/v1/targets/",
        {"scope": "rep", "subject": org.alice.pk, "metric": "revenue_won", "period": "2017-Q1", "value": "5"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [CONFLICT]}
