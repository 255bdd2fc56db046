"""CRM import, on the admin's upload page (/ops/import/crm/) and `import_crm`: a file that cannot
be read imports nothing at all; a row that cannot be taken is reported as "FILE, line N: reason"
(the accounts' and deals' as "FILE, line N: column: reason", through the mapped import) and
skipped whole, leaving no trace (no rep, team, user, customer or deal of its own)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import TestCase

from kpis.crm_import import import_crm
from kpis.models import Customer

from .helpers import CRM, assert_shown, assert_unchanged

pytestmark = pytest.mark.django_db

URL = "/ops/import/crm/"
PIPELINE = "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
GOOD = {
    "sales_teams.csv": (
        "sales_agent,manager,regional_office\n"
        "Anna Snelling,Dustin Brinkmann,Central\n"
        "Cecily Lampkin,Dustin Brinkmann,Central\n"
    ),
    "products.csv": "product,series,sales_price\nGTX Pro,GTX,4821\n",
    "accounts.csv": "account,sector,year_established,revenue,employees\nCancity,retail,2001,718.62,2448\n",
    "sales_pipeline.csv": (
        PIPELINE + "A1,Anna Snelling,GTXPro,Cancity,Won,2017-01-02,2017-02-01,5000\n"
        "A2,Cecily Lampkin,GTX Pro,,Engaging,2017-03-02,,\n"
    ),
}
X300 = "X" * 300


def files(**changed) -> dict[str, bytes]:
    """The good files, some replaced (bytes) or with rows added (str)."""
    out = {name: text.encode() for name, text in GOOD.items()}
    for key, value in changed.items():
        name = key.replace("__", ".")
        out[name] = value if isinstance(value, bytes) else (GOOD[name] + value).encode()
    return out


def write(folder, contents):
    for name, content in contents.items():
        (folder / name).write_bytes(content)
    return folder


def upload(client, contents, preview=False):
    """Upload, let the background job run (eagerly, once the request commits), open its page."""
    data = {name: SimpleUploadedFile(name, content) for name, content in contents.items()}
    if preview:
        data["preview"] = "on"
    with TestCase.captureOnCommitCallbacks(execute=True):
        started = client.post(URL, data)
    return client.get(started.url) if started.status_code == 302 else started  # else: the form's errors


# --- files that cannot be read: nothing imported

# (case, files, message after "<file>: " as the page shows it)
BAD_FILES = [
    (
        "UTF-16",
        files(
            sales_pipeline__csv=(PIPELINE + "A1,Anna Snelling,GTX Pro,,Won,2017-01-02,2017-02-01,5\n").encode(
                "utf-16"
            )
        ),
        "sales_pipeline.csv: not UTF-8 text (line 1 is not): save it as 'CSV UTF-8'.",
    ),
    (
        "Latin-1",
        files(
            sales_teams__csv=(GOOD["sales_teams.csv"] + "Zoë Åberg,Dustin Brinkmann,Central\n").encode(
                "latin-1"
            )
        ),
        "sales_teams.csv: not UTF-8 text (line 4 is not): save it as 'CSV UTF-8'.",
    ),
    (
        "a PNG",
        files(accounts__csv=b"\x89PNG\r\n\x1a\n" + bytes(range(256))),
        "accounts.csv: not UTF-8 text (line 1 is not): save it as 'CSV UTF-8'.",
    ),
    (
        "a NUL byte",
        files(sales_teams__csv="Bo\x00b,Dustin Brinkmann,Central\n"),
        "sales_teams.csv: not CSV text (it holds NUL bytes): save it as 'CSV UTF-8'.",
    ),
    (
        "a missing column",
        files(sales_pipeline__csv=PIPELINE.replace(",close_value", "").encode()),
        "sales_pipeline.csv: missing column(s) close_value.",
    ),
    ("blank lines only", files(products__csv=b"\n\r\n \n"), "products.csv: the file is empty."),
    (
        "a field over the csv module's limit",
        files(accounts__csv="Bigco," + "s" * 200_000 + ",2001,1,1\n"),
        "accounts.csv, line 3: not CSV (field larger than field limit (131072)).",
    ),
]


@pytest.mark.parametrize(("contents", "message"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
@pytest.mark.parametrize("preview", [True, False], ids=["preview", "import"])
def test_the_upload_page_refuses_a_file_it_cannot_read_and_imports_nothing(
    org, signed_in, contents, message, preview
):
    client = signed_in(org.admin)
    with assert_unchanged(*CRM):
        response = upload(client, contents, preview=preview)
    assert response.status_code == 200
    job = response.context["job"]
    assert (job.state, job.errors) == ("failed", [message])
    assert_shown(response, message)
    assert_shown(response, "Nothing was imported.")


@pytest.mark.parametrize(("contents", "message"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_import_crm_refuses_a_file_it_cannot_read_and_imports_nothing(org, tmp_path, contents, message):
    folder = write(tmp_path, contents)
    with assert_unchanged(*CRM), pytest.raises(CommandError) as error:
        call_command("import_crm", str(folder), "--no-recompute")
    assert str(error.value) == f"{folder}/{message}"


def test_an_empty_or_missing_upload_is_refused_by_the_form(org, signed_in):
    client = signed_in(org.admin)
    contents = files(products__csv=b"")
    del contents["accounts.csv"]
    with assert_unchanged(*CRM):
        response = upload(client, contents)
    assert response.context["form"].errors == {
        "products.csv": ["The submitted file is empty."],
        "accounts.csv": ["This field is required."],
    }


@pytest.mark.parametrize(
    ("remove", "message"),
    [
        ("accounts.csv", "{folder}/accounts.csv: file not found."),
        ("*", "{folder}/nowhere: no such directory."),
    ],
)
def test_import_crm_says_which_file_or_directory_is_missing(org, tmp_path, remove, message):
    folder = write(tmp_path, files())
    if remove == "*":
        folder = tmp_path / "nowhere"
    else:
        (folder / remove).unlink()
    with assert_unchanged(*CRM), pytest.raises(CommandError) as error:
        call_command("import_crm", str(folder), "--no-recompute")
    assert str(error.value) == message.format(folder=tmp_path)


def test_an_empty_file_is_refused_by_the_command(org, tmp_path):
    folder = write(tmp_path, files(accounts__csv=b""))
    with assert_unchanged(*CRM), pytest.raises(CommandError, match=r"accounts\.csv: the file is empty\."):
        call_command("import_crm", str(folder), "--no-recompute")


@pytest.fixture
def huge_pipeline():
    """21 MB of deals, over the 5 MB import limit (settings.IMPORT_MAX_MB)."""
    row = "A1,Anna Snelling,GTX Pro,Cancity,Won,2017-01-02,2017-02-01,5000\n"
    return (PIPELINE + row * (21 * 1024 * 1024 // len(row))).encode()


def test_a_huge_upload_is_refused_before_it_is_read(org, signed_in, huge_pipeline):
    client = signed_in(org.admin)
    with assert_unchanged(*CRM):
        response = upload(client, files(sales_pipeline__csv=huge_pipeline))
    assert response.context["form"].errors == {
        "sales_pipeline.csv": ["The file is over 5 MB: split it into smaller files."]
    }


def test_a_huge_file_is_refused_by_the_command(org, tmp_path, huge_pipeline):
    folder = write(tmp_path, files(sales_pipeline__csv=huge_pipeline))
    with assert_unchanged(*CRM), pytest.raises(CommandError) as error:
        call_command("import_crm", str(folder), "--no-recompute")
    assert str(error.value) == f"{folder}/sales_pipeline.csv: over 5 MB: split it into smaller files."


# --- rows that cannot be taken: reported, skipped whole

LONG = "Ensure this value has at most {} characters (it has 300)."
TOO_LONG = "Ensure this field has no more than {} characters."  # the API's, through the mapped import
# (case, files with the bad row added, the report line for it: or its lines, one per reason)
BAD_ROWS = [
    (
        "an opportunity_id twice",
        files(sales_pipeline__csv="A1,Cecily Lampkin,GTX Pro,Cancity,Won,2017-01-05,2017-03-01,99\n"),
        "sales_pipeline.csv, line 4: opportunity_id: 'A1' appears twice: line 2 is taken",
    ),
    (
        "an account twice",
        files(accounts__csv="Cancity,medical,1999,1,1\n"),
        "accounts.csv, line 3: account: 'Cancity' appears twice: line 2 is taken",
    ),
    (
        "a sales agent twice",
        files(sales_teams__csv="Anna Snelling,Someone Else,East\n"),
        "sales_teams.csv, line 4: Anna Snelling is listed twice",
    ),
    (
        "a product twice",
        files(products__csv="GTXPro,GTX,1\n"),
        "products.csv, line 3: GTXPro is listed twice",
    ),
    (
        "an overlong sales agent",
        files(sales_teams__csv=f"{X300},Dustin Brinkmann,Central\n"),
        f"sales_teams.csv, line 4: sales_agent '{'X' * 40}…': {LONG.format(150)}",
    ),
    (
        "an overlong manager",
        files(sales_teams__csv=f"Zed,{X300},Central\n"),
        f"sales_teams.csv, line 4: manager '{'X' * 40}…': {LONG.format(150)}",
    ),
    (
        "an overlong regional office",
        files(sales_teams__csv=f"Zed,Dustin Brinkmann,{X300}\n"),
        f"sales_teams.csv, line 4: regional_office '{'X' * 40}…': {LONG.format(150)}",
    ),
    (
        "an overlong account",
        files(accounts__csv=f"{X300},retail,,,\n"),
        (  # the account is the customer's external id and its name
            f"accounts.csv, line 3: account: {TOO_LONG.format(100)}",
            f"accounts.csv, line 3: account: {TOO_LONG.format(200)}",
        ),
    ),
    (
        "an overlong sector",
        files(accounts__csv=f"Bigco,{X300},,,\n"),
        f"accounts.csv, line 3: sector: {TOO_LONG.format(100)}",
    ),
    (
        "an overlong opportunity_id",
        files(sales_pipeline__csv=f"{X300},Anna Snelling,GTX Pro,,Engaging,2017-01-02,,\n"),
        f"sales_pipeline.csv, line 4: opportunity_id: {TOO_LONG.format(100)}",
    ),
    (
        "an overlong product",
        files(sales_pipeline__csv=f"A3,Anna Snelling,{X300},,Won,2017-01-02,2017-02-01,5\n"),
        f"sales_pipeline.csv, line 4: product: {TOO_LONG.format(100)}",
    ),
    (
        "a close_value written 1e13",
        files(sales_pipeline__csv="A3,Anna Snelling,GTX Pro,,Won,2017-01-02,2017-02-01,1e13\n"),
        "sales_pipeline.csv, line 4: close_value: '1e13' is not an amount written like 1,234.50",
    ),
    (
        "a close_value too large to store",
        files(sales_pipeline__csv="A3,Anna Snelling,GTX Pro,,Won,2017-01-02,2017-02-01,1000000000000\n"),
        "sales_pipeline.csv, line 4: close_value: '1000000000000' is over the largest amount, "
        "999,999,999,999.99",
    ),
    (
        "a negative close_value",
        files(sales_pipeline__csv="A3,Anna Snelling,GTX Pro,,Won,2017-01-02,2017-02-01,-5\n"),
        "sales_pipeline.csv, line 4: close_value: '-5' is negative: amounts are 0 or more",
    ),
    (
        "a sales_price written 1e13",
        files(products__csv="MG Special,MG,1e13\n"),
        "products.csv, line 3: sales_price: '1e13' is not an amount written like 1,234.50",
    ),
    (
        "a sales_price too large to store",
        files(products__csv="MG Special,MG,1000000000000\n"),
        "products.csv, line 3: sales_price: '1000000000000' is over the largest amount, 999,999,999,999.99",
    ),
    (
        "an engage_date in year 1",
        files(sales_pipeline__csv="A3,Anna Snelling,GTX Pro,,Won,0001-01-02,2017-02-01,5\n"),
        "sales_pipeline.csv, line 4: engage_date: 0001-01-02 is not between 1900 and 2100",
    ),
    (
        "a close_date not ISO",
        files(sales_pipeline__csv="A3,Anna Snelling,GTX Pro,,Won,2017-01-02,02/01/2017,5\n"),
        "sales_pipeline.csv, line 4: close_date: '02/01/2017' is not a date written like 2017-03-31",
    ),
    (
        "an unknown sales agent",
        files(sales_pipeline__csv="A3,Zed Unknown,GTX Pro,,Won,2017-01-02,2017-02-01,5\n"),
        "sales_pipeline.csv, line 4: sales_agent: unknown owner 'Zed Unknown'",
    ),
]


@pytest.fixture
def once_imported(org, tmp_path):
    """The good files, imported: a skipped row must then change nothing on a re-import."""
    import_crm(write(tmp_path, files()), recompute=False, progress=lambda *_: None)


@pytest.mark.parametrize(("contents", "line"), [c[1:] for c in BAD_ROWS], ids=[c[0] for c in BAD_ROWS])
def test_import_crm_skips_a_bad_row_whole_and_says_where_and_why(
    once_imported, tmp_path, capsys, contents, line
):
    folder = tmp_path / "again"
    folder.mkdir()
    write(folder, contents)
    with assert_unchanged(*CRM):
        call_command("import_crm", str(folder), "--no-recompute")
    out = capsys.readouterr()
    assert out.err.splitlines() == [f"skipped {reason}" for reason in _reasons(line)]
    assert "1 rows skipped." in out.out


def _reasons(line) -> list[str]:
    return [line] if isinstance(line, str) else list(line)


@pytest.mark.parametrize(
    ("contents", "line"), [c[1:] for c in BAD_ROWS[:3]], ids=[c[0] for c in BAD_ROWS[:3]]
)
def test_the_upload_page_lists_a_skipped_row_and_the_rest_is_imported(
    org, signed_in, once_imported, contents, line
):
    client = signed_in(org.admin)
    with assert_unchanged(*CRM):
        response = upload(client, contents)
    assert response.context["job"].errors == [line]
    assert_shown(response, line)


def test_the_upload_page_counts_a_row_with_two_reasons_as_one_row_skipped(org, signed_in, once_imported):
    contents, reasons = next(c[1:] for c in BAD_ROWS if c[0] == "an overlong account")
    client = signed_in(org.admin)
    with assert_unchanged(*CRM):
        response = upload(client, contents)
    assert response.context["job"].errors == list(reasons)
    assert_shown(response, "1 row skipped.")


def test_a_header_only_pipeline_imports_the_other_files_and_no_deal(org, signed_in):
    response = upload(signed_in(org.admin), files(sales_pipeline__csv=PIPELINE.encode()))
    assert response.context["job"].result["counts"] == {"reps": 2, "customers": 1, "opportunities": 0}
    assert_shown(response, "0 rows skipped")


def test_account_figures_that_cannot_be_stored_are_left_empty(org, tmp_path):
    folder = write(tmp_path, files(accounts__csv="Bigco,retail,99999,1e20,-5\n"))
    report = import_crm(folder, recompute=False, progress=lambda *_: None)
    assert report.skipped == []
    bigco = Customer.objects.get(name="Bigco")
    # A year over 32767 does not fit PostgreSQL's smallint; SQLite's integers hold it.
    year = None if connection.vendor == "postgresql" else 99999
    assert (bigco.year_established, bigco.annual_revenue, bigco.employees) == (year, None, None)
    assert Customer.objects.get(name="Cancity").employees == 2448
