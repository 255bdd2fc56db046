"""The admin's CRM upload: a preview saves nothing, the import saves everything it can take."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kpis.models import Opportunity
from teams.models import Rep

URL = "/ops/import/crm/"
FILES = {
    "sales_teams.csv": "sales_agent,manager,regional_office\nAnna Snelling,Dustin Brinkmann,Central\n",
    "products.csv": "product,series,sales_price\nGTX Pro,GTX,4821\n",
    "accounts.csv": "account,sector\nCancity,retail\n",
    "sales_pipeline.csv": (
        "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
        "A1,Anna Snelling,GTXPro,Cancity,Engaging,2017-01-02,,\n"
        "A2,Nobody,GTX Pro,Cancity,Won,2017-01-02,2017-02-01,10\n"
    ),
}


def upload(client, preview):
    data = {name: SimpleUploadedFile(name, text.encode()) for name, text in FILES.items()}
    if preview:
        data["preview"] = "on"
    return client.post(URL, data)


@pytest.mark.django_db
def test_a_preview_lists_the_rows_it_would_skip_and_saves_nothing(org, client):
    client.force_login(org.admin)
    response = upload(client, preview=True)
    assert response.status_code == 200
    assert (
        b"sales_pipeline.csv:3: sales_agent &#x27;Nobody&#x27; is not in sales_teams.csv" in response.content
    )
    assert not Opportunity.objects.exists()
    assert not Rep.objects.filter(full_name="Anna Snelling").exists()


@pytest.mark.django_db
def test_the_import_saves_every_row_it_can_take(org, client, django_capture_on_commit_callbacks):
    client.force_login(org.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, preview=False)
    assert response.status_code == 200
    deal = Opportunity.objects.get()
    assert (deal.external_id, deal.amount, deal.rep.full_name) == ("A1", 4821, "Anna Snelling")


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["east_manager", "alice"])
def test_only_admins_may_import(org, client, who):
    user = org.east_manager if who == "east_manager" else org.alice.user
    client.force_login(user)
    assert client.get(URL).status_code == 403
