"""import_crm and deal history: a new deal's history starts at its known creation date in its first
known state; a re-import's change is recorded by the database, from now."""

import csv
import datetime as dt
import shutil
from collections import Counter
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils import timezone

from kpis.crm_import import import_crm
from kpis.deal_history import day_start
from kpis.models import Opportunity, OpportunityState
from tests.kpis.test_import_crm_errors import write

pytestmark = pytest.mark.django_db

HEADER = "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value"
PIPELINE = [
    HEADER,
    "W1,Moses Frase,GTX Basic,Cancity,Won,2017-01-02,2017-02-01,500",
    "L1,Moses Frase,GTX Basic,Cancity,Lost,2017-01-05,2017-03-10,0",
    "E1,Moses Frase,GTX Basic,Cancity,Engaging,2017-02-01,,",
    "P1,Moses Frase,GTX Basic,,Prospecting,,,",
]


def quiet_import(directory):
    return import_crm(directory, recompute=False, progress=lambda *_: None)


def history(external_id):
    rows = OpportunityState.objects.filter(opportunity__external_id=external_id)
    return sorted(
        rows.values_list("since", "until", "stage__name", "amount", "closed_on", "expected_close_on"),
        key=lambda state: (state[0] is not None, state[0] or 0),
    )


@pytest.fixture
def small_dir(tmp_path, data_dir):
    for name in ("sales_teams.csv", "products.csv", "accounts.csv"):
        shutil.copy(data_dir / name, tmp_path / name)
    write(tmp_path, "sales_pipeline.csv", "\n".join(PIPELINE) + "\n")
    return tmp_path


def test_a_decided_deal_was_engaging_at_its_products_price_from_its_engage_date_until_its_close(small_dir):
    quiet_import(small_dir)
    gtx_basic = Decimal("550")  # products.csv: GTX Basic,GTX,550

    # W1: Engaging from its opening (2017-01-02) to 2017-02-01 at the price list's 550, then
    # Won at its close_value 500 from its close date.
    assert history("W1") == [
        (None, day_start(dt.date(2017, 2, 1)), "Engaging", gtx_basic, None, None),
        (day_start(dt.date(2017, 2, 1)), None, "Won", Decimal("500"), dt.date(2017, 2, 1), None),
    ]
    # L1: a lost deal's close_value is 0; while open it was worth its product's price.
    assert history("L1") == [
        (None, day_start(dt.date(2017, 3, 10)), "Engaging", gtx_basic, None, None),
        (day_start(dt.date(2017, 3, 10)), None, "Lost", Decimal("0"), dt.date(2017, 3, 10), None),
    ]
    # Open deals: one state, from their opening, as they are; no expected close date in the file.
    assert history("E1") == [(None, None, "Engaging", gtx_basic, None, None)]
    assert history("P1") == [(None, None, "Prospecting", gtx_basic, None, None)]
    assert not Opportunity.objects.exclude(expected_close_on=None).exists()


def test_a_reimport_that_changes_a_deal_adds_exactly_one_state_for_it(small_dir):
    quiet_import(small_dir)
    before = {row.split(",")[0]: history(row.split(",")[0]) for row in PIPELINE[1:]}

    # E1 is won; the rest is as it was.
    write(
        small_dir,
        "sales_pipeline.csv",
        "\n".join(PIPELINE).replace(
            "E1,Moses Frase,GTX Basic,Cancity,Engaging,2017-02-01,,",
            "E1,Moses Frase,GTX Basic,Cancity,Won,2017-02-01,2017-04-03,530",
        )
        + "\n",
    )
    quiet_import(small_dir)

    opened, won = history("E1")
    assert opened[:1] == (None,) and opened[2:] == ("Engaging", Decimal("550"), None, None)
    assert won[2:] == ("Won", Decimal("530"), dt.date(2017, 4, 3), None)
    # From when it was re-imported (now: the test's transaction began), not backdated.
    assert opened[1] == won[0] and timezone.localtime(won[0]).date() == timezone.localdate()
    assert won[1] is None
    assert {external_id: history(external_id) for external_id in ("W1", "L1", "P1")} == {
        external_id: before[external_id] for external_id in ("W1", "L1", "P1")
    }


def test_each_deal_of_the_public_data_set_has_the_states_its_row_tells(data_dir):
    quiet_import(data_dir)
    with (data_dir / "sales_pipeline.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    # Two states for a won or lost deal with an engage date, one for every other deal.
    expected = {
        row["opportunity_id"]: 2 if row["deal_stage"] in ("Won", "Lost") and row["engage_date"] else 1
        for row in rows
    }
    counts = Counter(OpportunityState.objects.values_list("opportunity__external_id", flat=True))

    assert counts == expected
    assert Counter(expected.values()) == {2: 6711, 1: 2089}  # 4238 won + 2473 lost; 2089 open
    first_states = OpportunityState.objects.filter(since=None)
    assert first_states.count() == 8800
    assert set(first_states.values_list("stage__outcome", flat=True)) == {"open"}


def test_the_upload_page_records_the_admin_who_imported(org, client, small_dir):
    # Moses Frase's row alone: the data set's East and West regions would be the org fixture's.
    write(
        small_dir,
        "sales_teams.csv",
        "sales_agent,manager,regional_office\nMoses Frase,Dustin Brinkmann,Central\n",
    )
    client.force_login(org.admin)
    data = {
        name: SimpleUploadedFile(name, (small_dir / name).read_bytes())
        for name in ("sales_teams.csv", "products.csv", "accounts.csv", "sales_pipeline.csv")
    }

    with TestCase.captureOnCommitCallbacks(execute=True):  # the import is a job: it runs on commit
        response = client.post("/ops/import/crm/", data)

    assert response.status_code == 302
    assert OpportunityState.objects.count() == 6  # W1 and L1 two each, E1 and P1 one each
    assert set(OpportunityState.objects.values_list("recorded_by", flat=True)) == {org.admin.pk}


def test_a_reimport_keeps_an_expected_close_date_set_in_salesperf(small_dir):
    quiet_import(small_dir)
    deal = Opportunity.objects.get(external_id="E1")
    deal.expected_close_on = dt.date(2017, 6, 30)
    deal.save()

    quiet_import(small_dir)  # the file has no expected close dates: it leaves them be

    deal.refresh_from_db()
    assert deal.expected_close_on == dt.date(2017, 6, 30)
    assert [state[-1] for state in history("E1")] == [None, dt.date(2017, 6, 30)]
