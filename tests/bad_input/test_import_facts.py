"""`import_facts` (the mapped CSV import, kpis.imports) given bad input: a file it cannot read or
a mapping that does not fit it is refused as a whole; bad rows are each reported as "FILE, line N:
field: reason"; nothing is written unless --good-rows-only, which writes the good rows only."""

import io

import pytest
from django.core.management import CommandError, call_command

from kpis.imports import MAX_IMPORT_BYTES, ImportFailed, read_table
from kpis.models import ImportMapping, Opportunity
from tests.factories import StageFactory, lost_stage, won_stage

from .helpers import FACTS, assert_unchanged

pytestmark = pytest.mark.django_db

HEADER = "Record ID,Deal Name,Amount,Close Date,Deal Stage,Deal owner,Create Date\n"
GOOD = "HS-1,Acme,$100.00,2017-03-15,Closed Won,Alice,2017-01-10\n"


@pytest.fixture
def deals(org):
    """The saved mapping 'hubspot deals' (ISO dates; HubSpot's won stage mapped to ours)."""
    won = won_stage()
    lost_stage()
    StageFactory(name="Engaging")
    return ImportMapping.objects.create(
        name="hubspot deals",
        kind="opportunities",
        columns={
            "external_id": "Record ID",
            "name": "Deal Name",
            "amount": "Amount",
            "closed_on": "Close Date",
            "stage": "Deal Stage",
            "owner": "Deal owner",
            "created_on": "Create Date",
        },
        values={"stage": {"Closed Won": str(won.pk)}},
    )


def run(tmp_path, content: bytes | str, *args):
    """import_facts on a file holding `content`: (stdout, stderr), or CommandError."""
    path = tmp_path / "deals.csv"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "import_facts",
            str(path),
            "--kind",
            "opportunities",
            "--mapping",
            "hubspot deals",
            *args,
            stdout=out,
            stderr=err,
        )
    except CommandError as e:
        e.stderr = err.getvalue().replace(str(tmp_path) + "/", "")
        e.args = (str(e).replace(str(tmp_path) + "/", ""),)
        raise
    return out.getvalue().replace(str(tmp_path) + "/", ""), err.getvalue().replace(str(tmp_path) + "/", "")


def refused(tmp_path, content, *args) -> CommandError:
    with assert_unchanged(*FACTS), pytest.raises(CommandError) as failed:
        run(tmp_path, content, *args)
    return failed.value


def test_a_good_file_imports_and_says_its_encoding_and_counts(tmp_path, deals):
    out, err = run(tmp_path, HEADER + GOOD)

    assert out.splitlines() == [
        "deals.csv: read as UTF-8, 1 rows.",
        "1 created, 0 updated, 0 unchanged, 0 refused.",
    ]
    assert err == ""
    assert Opportunity.objects.get(external_id="HS-1").amount == 100


def test_a_file_with_a_byte_order_mark_says_so(tmp_path, deals):
    out, _ = run(tmp_path, b"\xef\xbb\xbf" + (HEADER + GOOD).encode())

    assert out.startswith("deals.csv: read as UTF-8 with BOM, 1 rows.")


ROW_ERRORS = {
    "impossible date": (
        "HS-2,B,$5,2017-02-30,Closed Won,Alice,2017-01-10\n",
        "closed_on: '2017-02-30' is not a date written like 2017-03-31",
    ),
    "negative amount": (
        "HS-2,B,-$5.00,2017-03-01,Closed Won,Alice,\n",
        "amount: '-$5.00' is negative: amounts are 0 or more",
    ),
    "negative amount in parentheses": (
        "HS-2,B,($5.00),2017-03-01,Closed Won,Alice,\n",
        "amount: '($5.00)' is negative: amounts are 0 or more",
    ),
    "overflowing amount": (
        "HS-2,B,1234567890123,2017-03-01,Closed Won,Alice,\n",
        "amount: '1234567890123' is over the largest amount, 999,999,999,999.99",
    ),
    "not an amount": (
        "HS-2,B,12o0,2017-03-01,Closed Won,Alice,\n",
        "amount: '12o0' is not an amount written like 1,234.50",
    ),
    "more than two decimals": (
        "HS-2,B,$5.125,2017-03-01,Closed Won,Alice,\n",
        "amount: Ensure that there are no more than 2 decimal places.",
    ),
    "unknown owner": (
        "HS-2,B,$5,2017-03-01,Closed Won,Zoe,\n",
        "owner: unknown owner 'Zoe': map it to one of ours",
    ),
    "unknown stage": (
        "HS-2,B,$5,2017-03-01,Contract Sent,Alice,\n",
        "stage: unknown stage 'Contract Sent': map it to one of ours",
    ),
    "empty required cell": (
        "HS-2,B,,2017-03-01,Closed Won,Alice,\n",
        "amount: required, and the cell is empty",
    ),
    "date out of range": (
        "HS-2,B,$5,1800-03-01,Closed Won,Alice,\n",
        "closed_on: 1800-03-01 is not between 1900 and 2100",
    ),
    "ragged row": ("HS-2,B,$5\n", "row: it has 3 cells where the header has 7"),
    "too long a name": (
        f"HS-2,{'N' * 201},$5,2017-03-01,Closed Won,Alice,\n",
        "name: Ensure this field has no more than 200 characters.",
    ),
    "closed before created": (
        "HS-2,B,$5,2017-03-01,Closed Won,Alice,2017-04-01\n",
        "row: The close date is before the creation date.",
    ),
}


@pytest.mark.parametrize("case", list(ROW_ERRORS))
def test_a_bad_row_is_reported_with_file_line_and_field_and_nothing_is_written(tmp_path, deals, case):
    row, error = ROW_ERRORS[case]

    failed = refused(tmp_path, HEADER + GOOD + row)

    assert str(failed) == "deals.csv: 1 of 2 rows have errors; nothing was imported."
    assert failed.stderr.splitlines() == [f"deals.csv, line 3: {error}"]


def test_a_refused_file_still_gives_its_bad_rows_as_an_error_csv(tmp_path, deals):
    refused(
        tmp_path,
        HEADER + GOOD + "HS-2,B,-1,2017-03-01,Closed Won,Alice,\n",
        "--errors-csv",
        str(tmp_path / "e.csv"),
    )

    assert (tmp_path / "e.csv").read_text("utf-8-sig").splitlines() == [
        HEADER.strip() + ",error",
        "HS-2,B,-1,2017-03-01,Closed Won,Alice,,line 3: amount: '-1' is negative: amounts are 0 or more",
    ]


def test_an_external_id_given_twice_refuses_both_lines(tmp_path, deals):
    failed = refused(tmp_path, HEADER + GOOD + GOOD.replace("Acme", "Acme again"))

    assert failed.stderr.splitlines() == [
        "deals.csv, line 2: external_id: 'HS-1' is also on line 3: give each record once",
        "deals.csv, line 3: external_id: 'HS-1' is also on line 2: give each record once",
    ]


FILE_ERRORS = {
    "empty file": (b"", "deals.csv: the file is empty."),
    "blank header": (
        b" , ,\nHS-1,2\n",
        "deals.csv: the first line should be the header (the columns' names); it is empty.",
    ),
    "UTF-16": (
        (HEADER + GOOD).encode("utf-16"),
        "deals.csv: the file is UTF-16 text: save it as 'CSV UTF-8' and upload that.",
    ),
    "neither UTF-8 nor Windows-1252": (
        (HEADER + GOOD).encode() + b"HS-2,\x81\x8d,1,,Closed Won,Alice,\n",
        "deals.csv, line 3: not text in UTF-8 or Windows-1252 (byte 0x81): save it as 'CSV UTF-8'.",
    ),
    "a column the mapping names is missing": (
        HEADER.replace(",Deal Stage", "").encode(),
        "deals.csv: stage: the mapping names the column 'Deal Stage', which the file lacks. "
        "The file's columns: 'Record ID', 'Deal Name', 'Amount', 'Close Date', 'Deal owner', 'Create Date'.",
    ),
    "a column given twice": (
        b"Record ID,Amount,Amount\n",
        "deals.csv, line 1: the column 'Amount' appears twice in the header.",
    ),
}


@pytest.mark.parametrize("case", list(FILE_ERRORS))
def test_a_file_that_cannot_be_read_or_mapped_is_refused_whole(tmp_path, deals, case):
    content, message = FILE_ERRORS[case]

    failed = refused(tmp_path, content)

    assert str(failed) == message


def test_a_required_field_the_mapping_leaves_out_refuses_the_file(tmp_path, deals):
    deals.columns.pop("amount")
    deals.save()

    failed = refused(tmp_path, HEADER + GOOD)

    assert str(failed).startswith("deals.csv: amount: required, and no column is mapped to it.")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, deals):
    failed = refused(tmp_path, b"x" * (MAX_IMPORT_BYTES + 1))

    assert str(failed) == "deals.csv: over the 20 MB an import takes: split the file."
    with pytest.raises(ImportFailed) as unread:
        read_table(b"x" * (MAX_IMPORT_BYTES + 1), name="big.csv")
    assert unread.value.message == "big.csv: 20.0 MB is over the 20 MB an import takes: split the file."


def test_an_unknown_mapping_or_one_of_another_kind_is_refused(tmp_path, deals):
    (tmp_path / "x.csv").write_text(HEADER)
    with pytest.raises(CommandError) as unknown:
        call_command("import_facts", str(tmp_path / "x.csv"), "--kind", "opportunities", "--mapping", "nope")
    assert str(unknown.value) == "No mapping named 'nope' (saved for opportunities: hubspot deals)."
    with assert_unchanged(*FACTS), pytest.raises(CommandError) as failed:
        call_command("import_facts", str(tmp_path / "x.csv"), "--kind", "leads", "--mapping", "hubspot deals")
    assert str(failed.value) == "x.csv: the mapping 'hubspot deals' is for opportunities, not leads.".replace(
        "x.csv", str(tmp_path / "x.csv")
    )


def test_good_rows_only_writes_the_good_rows_and_the_bad_ones_to_the_error_csv(tmp_path, deals):
    bad = "HS-2,B,-1,2017-03-01,Closed Won,Alice,\n"

    out, err = run(
        tmp_path, HEADER + GOOD + bad, "--good-rows-only", "--errors-csv", str(tmp_path / "errors.csv")
    )

    assert list(Opportunity.objects.values_list("external_id", flat=True)) == ["HS-1"]
    assert err.splitlines() == ["deals.csv, line 3: amount: '-1' is negative: amounts are 0 or more"]
    assert out.splitlines()[-2:] == [
        "The refused rows are in errors.csv.",
        "1 created, 0 updated, 0 unchanged, 1 refused.",
    ]
    assert (tmp_path / "errors.csv").read_text("utf-8-sig").splitlines() == [
        HEADER.strip() + ",error",
        "HS-2,B,-1,2017-03-01,Closed Won,Alice,,line 3: amount: '-1' is negative: amounts are 0 or more",
    ]
