"""The mapped import's pages (issue 19): upload a CRM's CSV export → map its columns and values →
preview → import as a background job, whose page shows the result and the refused rows' CSV.

The file is a HubSpot-style deals export written for these tests. Its figures, by hand:
HS-101 "Acme renewal", Alice, Closed Won, $12,500.00 → amount 12500.00, won, closed 2017-02-15,
created 2017-01-03; HS-102 "Globex pilot", Bob, "Appointment Scheduled" (not a stage of ours:
mapped to Engaging on the page) 3,000 → 3000.00, open, created 2017-02-01.
"""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils import timezone
from django.utils.html import escape

from kpis import jobs
from kpis.jobs import Progress
from kpis.models import ImportMapping, Job, JobFile, Opportunity
from teams.models import Rep, Team
from tests.factories import StageFactory, UserFactory, lost_stage, won_stage

pytestmark = pytest.mark.django_db

URL = "/ops/import/facts/"
HEADER = '"Record ID","Deal Name","Amount","Close Date","Deal Stage","Deal owner","Create Date"\n'
DEALS = (
    HEADER
    + '"HS-101","Acme renewal","$12,500.00","2017-02-15","Closed Won","Alice","2017-01-03"\n'
    + '"HS-102","Globex pilot","3,000","","Appointment Scheduled","Bob","2017-02-01"\n'
)
# What the page suggests for this header (kpis.imports.suggest_columns), field by field.
SUGGESTED = {
    "external_id": "Record ID",
    "name": "Deal Name",
    "owner": "Deal owner",
    "stage": "Deal Stage",
    "amount": "Amount",
    "created_on": "Create Date",
    "closed_on": "Close Date",
}


@pytest.fixture
def stages(db):
    return {"won": won_stage(), "lost": lost_stage(), "engaging": StageFactory(name="Engaging")}


def upload(client, text=DEALS, *, name="hubspot-deals.csv", kind="opportunities", mapping=None):
    data = {"file": SimpleUploadedFile(name, text.encode() if isinstance(text, str) else text), "kind": kind}
    if mapping is not None:
        data["mapping"] = mapping.pk
    return client.post(URL, data)


def columns(**fields) -> dict:
    return {f"column_{field}": column for field, column in fields.items()}


def mapping_post(values=(), **extra) -> dict:
    """The mapping page's form: the suggested columns, ISO dates, and `values` as
    (field, the file's value, ours) rows of the value selects."""
    data = {
        **columns(**SUGGESTED),
        "date_format": "",
        "values-TOTAL_FORMS": str(len(values)),
        "values-INITIAL_FORMS": str(len(values)),
        "values-MIN_NUM_FORMS": "0",
        "values-MAX_NUM_FORMS": "1000",
    }
    for i, (field, value, ours) in enumerate(values):
        data |= {f"values-{i}-field": field, f"values-{i}-value": value, f"values-{i}-ours": ours}
    return data | extra


def stage_values(stages):
    return [
        ("stage", "Closed Won", str(stages["won"].pk)),
        ("stage", "Appointment Scheduled", str(stages["engaging"].pk)),
    ]


def preview(client, draft_url, data):
    """Post "Preview", let the draft's run finish (eagerly, once the request commits), open the
    mapping page again, which shows it."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        posted = client.post(draft_url, data)
    assert posted.status_code == 302, posted.context and posted.context["form"].errors
    assert posted.url == draft_url
    return client.get(draft_url)


def import_(client, draft_url, data):
    """Preview, then post "Import" with the same mapping, let the job run (eagerly, once the
    request commits), open its page."""
    preview(client, draft_url, data)
    with TestCase.captureOnCommitCallbacks(execute=True):
        started = client.post(draft_url, data | {"import": "1"})
    assert started.status_code == 302, started.context and started.context["form"].errors
    return client.get(started.url)


# --- step 1: upload


def test_an_upload_is_kept_as_a_draft_and_opens_its_mapping_with_the_columns_suggested(org, client, stages):
    client.force_login(org.admin)
    response = upload(client)
    draft = Job.objects.get()
    assert response.url == f"/ops/import/facts/{draft.pk}/"
    assert (draft.kind, draft.state, draft.options["draft"], draft.created_by) == (
        "facts_import",
        "queued",
        True,
        org.admin,
    )
    assert bytes(draft.files.get(name="hubspot-deals.csv").content) == DEALS.encode()

    page = client.get(response.url)
    assert page.status_code == 200
    assert "Read as <strong>UTF-8</strong>; 2 rows, 7 columns" in page.content.decode()
    form = page.context["form"]
    assert {name: form[f"column_{name}"].value() for name in SUGGESTED} == SUGGESTED
    assert form["column_customer"].value() in (None, "")  # no column of the file suggests one
    assert not Opportunity.objects.exists()


def test_the_job_page_of_a_draft_is_its_mapping(org, client, stages):
    client.force_login(org.admin)
    draft_url = upload(client).url
    draft = Job.objects.get()
    assert client.get(f"/ops/jobs/{draft.pk}/").url == draft_url


def test_an_upload_left_unmapped_for_a_day_is_deleted_at_the_next_upload(org, client, stages):
    client.force_login(org.admin)
    upload(client), upload(client)
    old, recent = Job.objects.order_by("pk")
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=1, minutes=1))
    Job.objects.filter(pk=recent.pk).update(created_at=timezone.now() - dt.timedelta(hours=23))
    upload(client)
    assert not Job.objects.filter(pk=old.pk).exists() and not JobFile.objects.filter(job_id=old.pk).exists()
    assert Job.objects.filter(pk=recent.pk).exists() and Job.objects.count() == 2
    assert client.get(f"/ops/import/facts/{old.pk}/").status_code == 404


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("deals.xlsx", b"PK\x03\x04 not a csv", "deals.xlsx is not a CSV file (.csv)."),
        ("deals.csv", b"", "The submitted file is empty."),
        ("deals.csv", b"\xff\xfeR\x00e\x00c\x00", "deals.csv: the file is UTF-16 text"),
        ("deals.csv", b"\n\n", "deals.csv"),
    ],
)
def test_a_file_that_is_no_csv_we_can_read_is_a_form_error_and_keeps_nothing(
    org, client, stages, name, content, message
):
    client.force_login(org.admin)
    response = upload(client, content, name=name)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["file"])
    assert not Job.objects.exists() and not JobFile.objects.exists()


def test_no_file_is_a_form_error(org, client):
    client.force_login(org.admin)
    response = client.post(URL, {"kind": "opportunities"})
    assert response.context["form"].errors["file"] == ["This field is required."]
    assert not Job.objects.exists()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(org, client, monkeypatch):
    monkeypatch.setattr("kpis.forms.MAX_IMPORT_BYTES", 100)
    client.force_login(org.admin)
    response = upload(client, DEALS + "x" * 100)
    assert response.context["form"].errors["file"] == [
        "hubspot-deals.csv is over 9.53674e-05 MB, the most an import takes: split the file."
    ]
    assert not Job.objects.exists()


def test_a_saved_mapping_of_another_kind_is_a_form_error(org, client):
    leads = ImportMapping.objects.create(name="HubSpot leads", kind="leads", columns={})
    client.force_login(org.admin)
    response = upload(client, mapping=leads)
    assert response.context["form"].errors["mapping"] == ["The mapping “HubSpot leads” is for leads."]
    assert not Job.objects.exists()


REPS = '"Name","Email","Team Name"\n"Dana Scully","dana@example.com","North"\n'
REPS_MAPPING = {
    "column_external_id": "Email",
    "column_full_name": "Name",
    "column_email": "Email",
    "column_team": "Team Name",
    "date_format": "",
}

# --- steps 2 and 3: map and preview


def test_the_preview_shows_the_rows_counts_and_errors_and_offers_the_unknown_stage_for_mapping(
    org, client, stages
):
    client.force_login(org.admin)
    draft_url = upload(client).url
    page = preview(client, draft_url, mapping_post(values=[("stage", "Closed Won", str(stages["won"].pk))]))
    shown = page.context["preview"]

    assert shown.counts == {"create": 1, "update": 0, "unchanged": 0, "refused": 1}
    assert shown.unmapped == {"stage": ["Appointment Scheduled"]}
    assert shown.errors == [
        "hubspot-deals.csv, line 3: stage: unknown stage 'Appointment Scheduled': map it to one of ours"
    ]
    first = shown.rows[0]
    assert (first["External id"], first["Stage"], first["Amount"], first["Close date"], first["Import"]) == (
        "HS-101",
        "Won",
        "12,500.00",
        "2017-02-15",
        "create",
    )
    # The value selects: the one mapped, then the one the file has and we do not know, each with
    # our stages to choose from.
    offered = [(f["field"].value(), f["value"].value(), f["ours"].value()) for f in page.context["values"]]
    assert offered == [
        ("stage", "Closed Won", str(stages["won"].pk)),
        ("stage", "Appointment Scheduled", None),
    ]
    assert "Engaging" in dict(page.context["values"][1].fields["ours"].choices).values()
    html = page.content.decode()
    assert "Preview — nothing saved yet" in html and "Appointment Scheduled" in html
    assert not Opportunity.objects.exists()


def test_a_preview_is_a_background_run_of_the_draft_that_the_page_follows(org, client, stages):
    """With a broker the preview waits for a worker: the page says so and polls the draft's status
    (static/js/app.js reloads it when the run ends); the mapping stays as the admin set it."""
    client.force_login(org.admin)
    draft_url = upload(client).url
    client.post(draft_url, mapping_post(values=stage_values(stages), save_as="Mine"))  # never run here
    draft = Job.objects.get()
    assert (draft.state, draft.options["draft"], draft.options["mapping"]["name"]) == ("queued", True, "Mine")

    page = client.get(draft_url)
    html = page.content.decode()
    assert "Preview — checking every row" in html
    assert f'data-status-url="/ops/jobs/{draft.pk}/status/" data-finished="0"' in html
    assert page.context["form"]["save_as"].value() == "Mine"
    offered = [(f["field"].value(), f["value"].value(), f["ours"].value()) for f in page.context["values"]]
    assert offered == stage_values(stages)
    assert 'name="import"' not in html  # no import before the preview is done
    assert client.get(f"/ops/jobs/{draft.pk}/status/").json()["state"] == "queued"


def test_a_preview_asked_again_while_one_runs_is_the_one_the_page_shows(org, client, stages, monkeypatch):
    """The admin changes the mapping and previews again before the first preview ended: the first
    run's end leaves the draft to the second (kpis.jobs.job_run: the latest run owns the record)."""
    client.force_login(org.admin)
    draft_url = upload(client).url
    client.post(draft_url, mapping_post(values=stage_values(stages), save_as="First"))  # queued
    draft = Job.objects.get()
    again = {**draft.options, "mapping": {**draft.options["mapping"], "name": "Second"}}
    real_preview = jobs.preview_import

    def previewed_again_meanwhile(**kwargs):
        shown = real_preview(**kwargs)
        jobs.job_draft_preview(draft=draft, options=again)  # its run waits in the queue
        return shown

    monkeypatch.setattr(jobs, "preview_import", previewed_again_meanwhile)
    jobs.job_run(draft.pk)
    draft.refresh_from_db()
    assert (draft.state, draft.result, draft.options["mapping"]["name"]) == ("queued", {}, "Second")

    monkeypatch.setattr(jobs, "preview_import", real_preview)
    jobs.job_run(draft.pk)  # the second run
    page = client.get(draft_url)
    assert page.context["form"]["save_as"].value() == "Second"
    assert page.context["preview"].counts["create"] == 2


def test_a_preview_runs_as_the_admin_who_uploaded_and_says_when_it_cannot_import_the_file(org, client):
    """Another admin may carry on with the upload; what it may import is its uploader's to say."""
    uploader = UserFactory(username="former_admin", is_staff=True)
    client.force_login(uploader)
    draft_url = upload(client, REPS, name="owners.csv", kind="reps").url
    uploader.is_staff = False
    uploader.save()

    client.force_login(org.admin)
    data = REPS_MAPPING | {"values-TOTAL_FORMS": "0", "values-INITIAL_FORMS": "0"}
    page = preview(client, draft_url, data)
    html = page.content.decode()
    assert "Preview — this mapping cannot import the file" in html
    assert "owners.csv: you may not import reps." in html
    assert 'name="import"' not in html
    assert not Rep.objects.filter(full_name="Dana Scully").exists()


def test_a_mapping_without_a_required_column_is_a_form_error_and_previews_nothing(org, client, stages):
    client.force_login(org.admin)
    draft_url = upload(client).url
    page = client.post(draft_url, mapping_post(column_amount=""))
    assert page.context["form"].errors["column_amount"] == ["Amount is required: choose the file's column."]
    assert page.context["preview"] is None
    assert not Opportunity.objects.exists()


def test_a_column_the_file_lacks_is_a_form_error(org, client, stages):
    client.force_login(org.admin)
    draft_url = upload(client).url
    page = client.post(draft_url, mapping_post(column_amount="Deal Value"))
    assert (
        "Deal Value is not one of the available choices." in page.context["form"].errors["column_amount"][0]
    )
    assert not Opportunity.objects.exists()


def test_a_saved_mapping_naming_a_column_the_file_lacks_says_so(org, client, stages):
    saved = ImportMapping.objects.create(
        name="Old export", kind="opportunities", columns={**SUGGESTED, "amount": "Deal Value"}
    )
    client.force_login(org.admin)
    page = client.get(upload(client, mapping=saved).url)
    html = page.content.decode()
    assert "The mapping “Old export” names columns this file lacks:" in html
    assert "Amount: “Deal Value”" in html
    assert page.context["form"]["column_amount"].value() == "Amount"  # the suggestion instead


# --- step 4: import


def test_the_import_runs_as_a_job_saves_the_mapping_and_its_page_shows_the_result(org, client, stages):
    client.force_login(org.admin)
    draft_url = upload(client).url
    page = import_(client, draft_url, mapping_post(values=stage_values(stages), save_as="HubSpot deals"))

    job = page.context["job"]
    assert (job.kind, job.state, job.created_by, job.errors) == ("facts_import", "succeeded", org.admin, [])
    assert job.result["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "refused": 0}
    assert (job.result["encoding"], job.result["mapping"], job.result["error_file"]) == (
        "UTF-8",
        "HubSpot deals",
        None,
    )
    html = page.content.decode()
    assert "<strong>2</strong> created, <strong>0</strong> updated" in html
    assert "the file read as UTF-8; mapping “HubSpot deals”" in html
    assert not Job.objects.filter(options__draft=True).exists()  # the draft is gone
    assert client.get(draft_url).status_code == 404

    won = Opportunity.objects.get(external_id="HS-101")
    assert (won.name, won.rep, won.stage, won.amount, won.closed_on, won.created_on) == (
        "Acme renewal",
        org.alice,
        stages["won"],
        Decimal("12500.00"),
        dt.date(2017, 2, 15),
        dt.date(2017, 1, 3),
    )
    open_deal = Opportunity.objects.get(external_id="HS-102")
    assert (open_deal.rep, open_deal.stage, open_deal.amount, open_deal.closed_on) == (
        org.bob,
        stages["engaging"],
        Decimal("3000.00"),
        None,
    )
    saved = ImportMapping.objects.get(name="HubSpot deals")
    assert (saved.kind, saved.columns, saved.created_by) == ("opportunities", SUGGESTED, org.admin)
    assert saved.values == {
        "stage": {"Closed Won": str(stages["won"].pk), "Appointment Scheduled": str(stages["engaging"].pk)}
    }
    assert client.get(f"/ops/jobs/{job.pk}/status/").json()["finished"] is True


def test_a_reimport_with_the_saved_mapping_changes_nothing(org, client, stages):
    client.force_login(org.admin)
    import_(client, upload(client).url, mapping_post(values=stage_values(stages), save_as="HubSpot deals"))
    saved = ImportMapping.objects.get()

    draft_url = upload(client, mapping=saved).url
    page = client.get(draft_url)
    form = page.context["form"]
    assert {name: form[f"column_{name}"].value() for name in SUGGESTED} == SUGGESTED
    assert form["save_as"].value() == "HubSpot deals"
    offered = [(f["field"].value(), f["value"].value(), f["ours"].value()) for f in page.context["values"]]
    assert offered == stage_values(stages)

    shown = preview(client, draft_url, mapping_post(values=stage_values(stages))).context["preview"]
    assert shown.counts == {"create": 0, "update": 0, "unchanged": 2, "refused": 0}
    job = import_(
        client, draft_url, mapping_post(values=stage_values(stages), save_as="HubSpot deals")
    ).context["job"]
    assert job.result["counts"] == {"created": 0, "updated": 0, "unchanged": 2, "refused": 0}
    assert Opportunity.objects.count() == 2


def test_the_job_page_follows_the_rows_read_and_written_while_it_runs(org, client, stages, monkeypatch):
    """What /ops/jobs/<id>/status/ answers while the import's transaction is still open: the step,
    rows done of all (through the cache: kpis.jobs.Progress), looked at on each report."""
    seen = []

    class Watched(Progress):
        def __init__(self, job_id):
            super().__init__(job_id)
            self.job_id = job_id

        def __call__(self, step, done=0, total=None):
            super().__call__(step, done, total)
            status = client.get(f"/ops/jobs/{self.job_id}/status/").json()
            seen.append((status["state"], status["step"], status["done"], status["total"]))

    monkeypatch.setattr("kpis.jobs.Progress", Watched)
    client.force_login(org.admin)
    draft_url, data = upload(client).url, mapping_post(values=stage_values(stages))
    preview(client, draft_url, data)
    assert seen == [  # the preview, on the mapping page
        ("running", "checking every row", 0, 2),
        ("running", "reading", 0, 2),
        ("running", "checking", 0, 2),
    ]
    seen.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(draft_url, data | {"import": "1"})
    assert seen == [
        ("running", "reading", 0, 2),
        ("running", "checking", 0, 2),
        ("running", "writing", 2, 2),
    ]


def test_the_job_page_lists_the_refused_rows_as_they_are_found(org, client, stages, monkeypatch):
    """A row error reaches /ops/jobs/<id>/status/ while the run goes on, not only at its end."""
    seen = []

    class Watched(Progress):
        def __init__(self, job_id):
            super().__init__(job_id)
            self.job_id = job_id

        def refused(self, line):
            super().refused(line)
            seen.append(client.get(f"/ops/jobs/{self.job_id}/status/").json()["errors"])

    monkeypatch.setattr("kpis.jobs.Progress", Watched)
    client.force_login(org.admin)
    preview(client, upload(client).url, mapping_post())  # HubSpot's stages not mapped to ours
    assert len(seen) == 2  # both rows refused, each seen while the preview still ran
    assert seen[0] == [seen[1][0]]
    assert all(", line " in error and "stage" in error for error in seen[1])


def test_a_mapping_changed_since_its_preview_is_previewed_before_it_is_imported(org, client, stages):
    client.force_login(org.admin)
    draft_url = upload(client).url
    preview(client, draft_url, mapping_post(values=stage_values(stages)))
    changed = mapping_post(values=stage_values(stages), column_name="Record ID")
    with TestCase.captureOnCommitCallbacks(execute=True):
        posted = client.post(draft_url, changed | {"import": "1"})
    assert posted.url == draft_url
    page = client.get(draft_url)
    assert "The mapping changed since its preview: here is its preview." in page.content.decode()
    assert page.context["preview"].rows[0]["Name"] == "HS-101"  # the changed mapping's preview
    assert Job.objects.get().options["draft"] and not Opportunity.objects.exists()
    # Naming it after the preview changes nothing it does: that imports.
    job = import_(client, draft_url, changed | {"save_as": "Ids as names"}).context["job"]
    assert job.state == "succeeded" and Opportunity.objects.get(external_id="HS-101").name == "HS-101"


def test_an_unsaved_mapping_travels_with_the_job(org, client, stages):
    client.force_login(org.admin)
    job = import_(client, upload(client).url, mapping_post(values=stage_values(stages))).context["job"]
    assert job.state == "succeeded" and "mapping_id" not in job.options
    assert job.options["mapping"]["columns"] == SUGGESTED
    assert not ImportMapping.objects.exists()


# A Salesforce-style export as Excel writes it in a German locale: Windows-1252, semicolons,
# day-first dates, decimal commas and a euro sign. By hand: SF-1 won on 14.03.2017 for
# "1.500,00 €" → 1500.00; SF-2 "Prospecting" (mapped to Engaging), open, "2.250,75 €" → 2250.75,
# its close date 30.06.2017 its expected close.
SALESFORCE = (
    "Opportunity ID;Opportunity Name;Stage;Amount;Close Date;Created Date;Opportunity Owner\n"
    "SF-1;Café Nord;Closed Won;1.500,00 €;14.03.2017;05.01.2017;Alice\n"
    "SF-2;Zürich Pilot;Prospecting;2.250,75 €;30.06.2017;01.03.2017;Bob\n"
).encode("cp1252")
SALESFORCE_COLUMNS = {
    "external_id": "Opportunity ID",
    "name": "Opportunity Name",
    "owner": "Opportunity Owner",
    "stage": "Stage",
    "amount": "Amount",
    "created_on": "Created Date",
    "closed_on": "Close Date",
}


def test_a_salesforce_export_in_windows_1252_with_decimal_commas_imports_and_reimports_unchanged(
    org, client, stages
):
    client.force_login(org.admin)
    draft_url = upload(client, SALESFORCE, name="salesforce.csv").url
    page = client.get(draft_url)
    assert "Read as <strong>Windows-1252</strong>; 2 rows, 7 columns" in page.content.decode()
    form = page.context["form"]
    assert {name: form[f"column_{name}"].value() for name in SALESFORCE_COLUMNS} == SALESFORCE_COLUMNS
    values = [
        ("stage", "Closed Won", str(stages["won"].pk)),
        ("stage", "Prospecting", str(stages["engaging"].pk)),
    ]
    data = mapping_post(values=values, **columns(**SALESFORCE_COLUMNS)) | {
        "date_format": "%d.%m.%Y",
        "decimal_comma": "on",
        "save_as": "Salesforce opportunities",
    }
    shown = preview(client, draft_url, data).context["preview"]
    assert (shown.counts["create"], shown.errors) == (2, [])
    job = import_(client, draft_url, data).context["job"]
    assert job.result["counts"]["created"] == 2 and job.result["encoding"] == "Windows-1252"

    won, open_deal = Opportunity.objects.order_by("external_id")
    assert (won.name, won.stage, won.amount, won.closed_on, won.created_on) == (
        "Café Nord",
        stages["won"],
        Decimal("1500.00"),
        dt.date(2017, 3, 14),
        dt.date(2017, 1, 5),
    )
    assert (
        open_deal.name,
        open_deal.rep,
        open_deal.amount,
        open_deal.closed_on,
        open_deal.expected_close_on,
    ) == (
        "Zürich Pilot",
        org.bob,
        Decimal("2250.75"),
        None,
        dt.date(2017, 6, 30),
    )

    # Again, with the saved mapping: its date format and decimal comma come back with it.
    saved = ImportMapping.objects.get(name="Salesforce opportunities")
    assert (saved.date_format, saved.decimal_comma) == ("%d.%m.%Y", True)
    draft_url = upload(client, SALESFORCE, name="salesforce.csv", mapping=saved).url
    form = client.get(draft_url).context["form"]
    assert (form["date_format"].value(), form["decimal_comma"].value()) == ("%d.%m.%Y", True)
    job = import_(client, draft_url, data).context["job"]
    assert job.result["counts"] == {"created": 0, "updated": 0, "unchanged": 2, "refused": 0}


BAD_ROW = '"HS-103","Initech","-5","2017-02-30","Closed Won","Alice","2017-01-05"\n'
BAD_ROW_ERRORS = [
    "hubspot-deals.csv, line 4: amount: '-5' is negative: amounts are 0 or more",
    "hubspot-deals.csv, line 4: closed_on: '2017-02-30' is not a date written like 2017-03-31",
]


def test_all_or_nothing_refuses_a_file_with_a_bad_row_and_lists_every_error(org, client, stages):
    client.force_login(org.admin)
    page = import_(client, upload(client, DEALS + BAD_ROW).url, mapping_post(values=stage_values(stages)))
    job = page.context["job"]
    assert job.state == "failed"
    assert job.errors == [
        "hubspot-deals.csv: 1 of 3 rows have errors; nothing was imported.",
        *BAD_ROW_ERRORS,
    ]
    html = page.content.decode()
    assert "Nothing was imported." in html
    assert not Opportunity.objects.exists()
    # The rows that made it refuse the file, to fix and import again.
    assert job.result == {"error_file": "hubspot-deals.errors.csv"}
    assert f'href="/ops/jobs/{job.pk}/errors.csv"' in html
    download = client.get(f"/ops/jobs/{job.pk}/errors.csv")
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert [r["Record ID"] for r in rows] == ["HS-103"]


def test_good_rows_only_imports_them_and_keeps_the_bad_ones_as_a_csv_to_download(org, client, stages):
    client.force_login(org.admin)
    page = import_(
        client,
        upload(client, DEALS + BAD_ROW).url,
        mapping_post(values=stage_values(stages), good_rows_only="1"),
    )
    job = page.context["job"]
    assert job.state == "succeeded"
    assert job.result["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "refused": 1}
    assert job.result["error_file"] == "hubspot-deals.errors.csv"
    assert job.errors == BAD_ROW_ERRORS
    assert sorted(Opportunity.objects.values_list("external_id", flat=True)) == ["HS-101", "HS-102"]
    assert f'href="/ops/jobs/{job.pk}/errors.csv"' in page.content.decode()

    download = client.get(f"/ops/jobs/{job.pk}/errors.csv")
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="hubspot-deals.errors.csv"'
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert [(r["Record ID"], r["Amount"], r["Close Date"]) for r in rows] == [("HS-103", "-5", "2017-02-30")]
    assert rows[0]["error"] == (
        "line 4: amount: '-5' is negative: amounts are 0 or more; "
        "closed_on: '2017-02-30' is not a date written like 2017-03-31"
    )


def test_a_job_without_refused_rows_has_no_error_csv(org, client, stages):
    client.force_login(org.admin)
    job = import_(client, upload(client).url, mapping_post(values=stage_values(stages))).context["job"]
    assert client.get(f"/ops/jobs/{job.pk}/errors.csv").status_code == 404


def test_what_needs_confirming_is_asked_and_the_import_refuses_it_unconfirmed(org, client):
    client.force_login(org.admin)
    draft_url = upload(client, REPS, name="owners.csv", kind="reps").url
    data = REPS_MAPPING | {"values-TOTAL_FORMS": "0", "values-INITIAL_FORMS": "0"}
    page = preview(client, draft_url, data)
    confirm = page.context["preview"].confirm
    assert any("North" in item for item in confirm), confirm  # a new team, and a new user
    html = page.content.decode()
    assert "This import needs your confirmation" in html
    assert all(escape(item) in html for item in confirm)

    refused = import_(client, draft_url, data).context["job"]
    assert refused.state == "failed"
    assert refused.errors[0].startswith("owners.csv: the import needs your confirmation:")
    assert not Rep.objects.filter(full_name="Dana Scully").exists()
    assert not Team.objects.filter(name="North").exists()

    draft_url = upload(client, REPS, name="owners.csv", kind="reps").url
    confirmed = import_(client, draft_url, data | {"confirmed": "on"}).context["job"]
    assert confirmed.state == "succeeded", confirmed.errors
    assert Rep.objects.get(full_name="Dana Scully").team.name == "North"


def test_saving_under_the_name_of_a_mapping_of_another_kind_is_a_form_error(org, client, stages):
    ImportMapping.objects.create(name="HubSpot", kind="leads", columns={})
    client.force_login(org.admin)
    draft_url = upload(client).url
    data = mapping_post(values=stage_values(stages), save_as="HubSpot")
    preview(client, draft_url, data)
    page = client.post(draft_url, data | {"import": "1"})
    assert page.status_code == 200
    assert page.context["form"].errors["save_as"] == [
        "“HubSpot” is a mapping for leads: choose another name."
    ]
    assert Job.objects.get().options["draft"]  # no import started
    assert not Opportunity.objects.exists()


# --- who may


@pytest.mark.parametrize("who", ["east_manager", "alice"])
def test_only_admins_may_use_the_import_pages(org, client, stages, who):
    client.force_login(org.admin)
    draft_url = upload(client).url
    job = import_(
        client,
        upload(client, DEALS + BAD_ROW).url,
        mapping_post(values=stage_values(stages), good_rows_only="1"),
    ).context["job"]
    client.force_login(org.east_manager if who == "east_manager" else org.alice.user)
    assert client.get(URL).status_code == 403
    assert upload(client).status_code == 403
    assert client.get(draft_url).status_code == 403
    assert client.post(draft_url, mapping_post(**{"import": "1"})).status_code == 403
    assert client.get(f"/ops/jobs/{job.pk}/errors.csv").status_code == 403
    assert Job.objects.count() == 2


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get(URL).url.startswith("/accounts/login/")
