"""CSV exports never hand a spreadsheet a live formula (OWASP "CSV injection"): a text cell that
begins with =, +, -, @, a tab or a carriage return gets a leading apostrophe; a number, negative
ones included, stays a number. Every CSV writer goes through salesperf.csv."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client

from kpis import services
from salesperf.csv import cell, text_of
from targets.csv_io import targets_import_csv
from targets.models import Target
from tests.factories import ActivityFactory, CustomerFactory, LeadFactory, NpsResponseFactory, TargetFactory

pytestmark = pytest.mark.django_db

LINK = '=HYPERLINK("http://x","y")'
COMMAND = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    "value, written",
    [
        (LINK, "'" + LINK),
        (COMMAND, "'" + COMMAND),
        ("+1+cmd", "'+1+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain", "plain"),
        ("", ""),
        ("-5.00", "-5.00"),
        ("+12.5", "+12.5"),
        ("-1e3", "-1e3"),
        (Decimal("-5.00"), "-5.00"),
        (-3, "-3"),
    ],
)
def test_a_cell_that_would_be_a_formula_is_text_and_a_number_stays_a_number(value, written):
    assert cell(value) == written


@pytest.fixture
def hostile(org):
    """A lead and a call whose names are formulas; a rep and a team named so; a target 5% below
    its baseline; an NPS of -100."""
    LeadFactory(name=LINK, rep=org.alice, created_on=dt.date(2017, 1, 10))
    ActivityFactory(subject=COMMAND, rep=org.alice, occurred_at=dt.datetime(2017, 1, 10, 9, tzinfo=dt.UTC))
    org.bob.full_name = LINK
    org.bob.save()
    org.east.name = COMMAND
    org.east.save()
    TargetFactory(
        rep=org.bob, value=Decimal("950"), baseline_start=dt.date(2016, 12, 1), uplift_pct=Decimal("-5")
    )
    NpsResponseFactory(customer=CustomerFactory(owner=org.alice), responded_on=dt.date(2017, 1, 10), score=0)
    services.recompute_all()
    return org


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def cells(text: str) -> set[str]:
    return {value for row in rows(text) for value in row}


def drill_csv(user, metric) -> str:
    client = Client()
    client.force_login(user)
    url = f"/drill/?scope=rep&subject={user.rep.pk}&metric={metric}&period=2017-01&format=csv"
    response = client.get(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_the_drill_down_csv_neutralises_formulas(hostile):
    leads = cells(drill_csv(hostile.alice.user, "leads_generated"))
    calls = cells(drill_csv(hostile.alice.user, "calls_made"))

    assert "'" + LINK in leads and LINK not in leads
    assert "'" + COMMAND in calls and COMMAND not in calls


def test_the_targets_export_page_neutralises_formulas_and_keeps_negative_numbers(hostile):
    client = Client()
    client.force_login(hostile.east_manager)

    exported = rows(client.get("/targets/export.csv").content.decode())

    assert ["rep", "'" + LINK, "revenue_won", "2017-01", "", "2016-12", "-5.00"] in exported


def test_export_targets_neutralises_formulas_and_keeps_negative_numbers(hostile):
    out = io.StringIO()
    call_command("export_targets", "--user", "east_manager", stdout=out)

    assert ["rep", "'" + LINK, "revenue_won", "2017-01", "", "2016-12", "-5.00"] in rows(out.getvalue())


def test_export_kpis_neutralises_formulas_and_keeps_negative_numbers(hostile):
    out = io.StringIO()
    call_command("export_kpis", "--user", "east_manager", "--period", "month", "--metric", "nps", stdout=out)
    exported = rows(out.getvalue())

    assert ["team", "'" + COMMAND, "nps", "2017-01", "-100.000000"] in exported
    assert not any(name.startswith(("=", "+", "@")) for _, name, *_ in exported)


@pytest.mark.parametrize("text", [LINK, COMMAND, "'" + LINK, "''=1", "'plain", "plain", "-5.00", "-2+3"])
def test_what_an_export_writes_an_import_reads_back(text):
    assert text_of(cell(text)) == text


def test_an_exported_target_named_like_a_formula_imports_back(hostile):
    Target.objects.update(baseline_start=None, uplift_pct=None)  # no baseline figure to grow from
    out = io.StringIO()
    call_command("export_targets", stdout=out)
    Target.objects.all().delete()

    errors = targets_import_csv(user=hostile.admin, file=io.BytesIO(out.getvalue().encode()))

    assert errors == []
    assert Target.objects.get().rep == hostile.bob
