"""A target write that names a rep or team outside the writer's scope is answered exactly as one
that names a rep or team that does not exist, and names neither (issue 14, item 7): the API,
the target form and the targets CSV import. "You may not set targets for Carol" told a manager
that Carol exists, and her name."""

import io

import pytest
from django.test import Client
from rest_framework.test import APIClient

from targets.csv_io import targets_import_csv
from targets.models import Target

pytestmark = pytest.mark.django_db

MISSING = 99_999


def api_error(user, scope, subject_id):
    client = APIClient()
    client.force_authenticate(user)
    body = {"scope": scope, "subject": subject_id, "metric": "revenue_won", "period": "2017-Q1", "value": "1"}
    response = client.post("/api/v1/targets/", body, format="json")
    assert response.status_code == 400
    return response.content.decode()


@pytest.mark.parametrize(("scope", "outside"), [("rep", "carol"), ("team", "west"), ("team", "region")])
def test_the_api_answers_a_subject_outside_ones_scope_as_one_that_does_not_exist(org, scope, outside):
    subject = getattr(org, outside)
    seen = api_error(org.east_manager, scope, subject.pk)
    unknown = api_error(org.east_manager, scope, MISSING)
    assert seen.replace(str(subject.pk), "N") == unknown.replace(str(MISSING), "N")
    assert seen == f'{{"subject":["There is no {scope} {subject.pk} you may set targets for."]}}'
    assert str(subject) not in seen
    assert not Target.objects.exists()


def test_the_api_answers_a_forecast_for_another_rep_as_one_for_no_rep(org):
    client = APIClient()
    client.force_authenticate(org.alice.user)

    def error(rep_id):
        body = {"scope": "rep", "rep": rep_id, "period_kind": "quarter", "period_start": "2030-01-01"}
        response = client.post("/api/v1/forecasts/", body | {"amount": "1"}, format="json")
        assert response.status_code == 400
        return response.content.decode()

    assert error(org.carol.pk).replace(str(org.carol.pk), "N") == error(MISSING).replace(str(MISSING), "N")
    assert "Carol" not in error(org.carol.pk)


def test_the_target_form_answers_a_subject_outside_ones_scope_as_one_that_does_not_exist(org):
    client = Client()
    client.force_login(org.east_manager)

    def errors(subject):
        body = {"subject": subject, "metric": "revenue_won", "period": "2017-Q2", "mode": "absolute"}
        response = client.post("/targets/new/", body | {"value": "1"})
        assert response.status_code == 200
        return response.context["form"].errors.as_json()

    assert errors(f"rep:{org.carol.pk}").replace(str(org.carol.pk), "N") == errors(f"rep:{MISSING}").replace(
        str(MISSING), "N"
    )
    assert "Carol" not in errors(f"rep:{org.carol.pk}")


def test_the_csv_import_answers_a_name_outside_ones_scope_as_a_name_nobody_has(org):
    def errors(name, scope="rep"):
        text = f"scope,name,metric,period,value\n{scope},{name},revenue_won,2017-Q1,5\n"
        return targets_import_csv(user=org.east_manager, file=io.BytesIO(text.encode()))

    assert errors("Carol") == ["line 2: no rep named 'Carol' that you may set targets for."]
    assert errors("Nobody") == ["line 2: no rep named 'Nobody' that you may set targets for."]
    assert errors("West", "team") == ["line 2: no team named 'West' that you may set targets for."]
    assert not Target.objects.exists()
