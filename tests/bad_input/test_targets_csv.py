"""Targets CSV, on the upload pages (/targets/import/, /ops/import/) and `import_targets`: a bad
file or a bad row is reported (file-level, or "line N: …") and not one target is written."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from targets.models import Target

from .helpers import TARGETS, assert_shown, assert_unchanged

pytestmark = pytest.mark.django_db

HEADER = "scope,name,metric,period,value\n"
# Changes Alice's 2017-Q1 target (alice_q1: 1000): a file that fails must not have done it.
GOOD = "rep,Alice,revenue_won,2017-Q1,2000\n"


def not_utf8(line):
    return f"The file is not UTF-8 text (line {line} is not): save it as 'CSV UTF-8' and try again."


def bad_row(row):
    return (HEADER + GOOD + row + "\n").encode()


# (case, the file's bytes, the message; page_only / command_only where they differ)
BAD_FILES = [
    ("UTF-16", (HEADER + GOOD).encode("utf-16"), not_utf8(1)),
    (
        "UTF-16 without a byte order mark",
        (HEADER + GOOD).encode("utf-16-le"),
        "The file is not CSV text (it holds NUL bytes): save it as 'CSV UTF-8' and try again.",
    ),
    ("Latin-1", (HEADER + GOOD + "rep,Zoë,revenue_won,2017-Q1,5\n").encode("latin-1"), not_utf8(3)),
    ("a PNG", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, not_utf8(1)),
    (
        "a NUL byte",
        bad_row("rep,Al\x00ice,revenue_won,2017-Q2,5"),
        "The file is not CSV text (it holds NUL bytes): save it as 'CSV UTF-8' and try again.",
    ),
    (
        "a missing column",
        b"scope,name,metric,period\nrep,Alice,revenue_won,2017-Q1\n",
        "The header lacks the column(s) value: expected scope,name,metric,period,value "
        "(and optionally baseline,uplift_pct).",
    ),
    (
        "an unknown column",
        b"scope,name,metric,period,value,owner\nrep,Alice,revenue_won,2017-Q1,5,me\n",
        "The header has unknown column(s) owner: expected scope,name,metric,period,value "
        "(and optionally baseline,uplift_pct).",
    ),
    ("the same key twice", bad_row(GOOD.strip()), "line 3: repeats line 2 (Alice, revenue_won, 2017-Q1)."),
    (
        "the same key written two ways",
        (HEADER + GOOD + "rep,Alice,deals_won,2017-01,5\nrep,Alice,deals_won,2017-1,6\n").encode(),
        "line 4: repeats line 3 (Alice, deals_won, 2017-1).",
    ),
    ("a header and nothing else", HEADER.encode(), "The file has a header but no rows: nothing to import."),
    ("a short row", bad_row("rep,Alice"), "line 3: expected 5 fields, found 2."),
    (
        "a carriage return inside a field",
        bad_row("rep,Al\rice,revenue_won,2017-Q2,5"),
        "line 3: expected 5 fields, found 2.",
    ),
    (
        "a field over the csv module's limit",
        bad_row("rep," + "A" * 200_000 + ",revenue_won,2017-Q2,1"),
        "line 3: field larger than field limit (131072)",
    ),
    (
        "a rep of another team",
        bad_row("rep,Carol,revenue_won,2017-Q1,5"),
        "line 3: no rep named 'Carol' that you may set targets for.",
    ),
    (
        "an unknown rep",
        bad_row("rep,Nobody,revenue_won,2017-Q1,5"),
        "line 3: no rep named 'Nobody' that you may set targets for.",
    ),
    (
        "an overlong name",
        bad_row("team," + "E" * 300 + ",revenue_won,2017-Q1,5"),
        f"line 3: no team named '{'E' * 300}' that you may set targets for.",
    ),
    (
        "an unknown scope",
        bad_row("planet,Mars,revenue_won,2017-Q1,5"),
        "line 3: 'planet' is not a scope: use rep, team or company.",
    ),
    ("an unknown metric", bad_row("rep,Alice,profit,2017-Q1,5"), "line 3: Unknown metric 'profit'."),
    (
        "month 13",
        bad_row("rep,Alice,revenue_won,2017-13,5"),
        "line 3: '2017-13' is not a period: use 2017-03, 2017-Q1 or 2017.",
    ),
    (
        "a period out of range",
        bad_row("rep,Alice,revenue_won,9999-12,5"),
        "line 3: '9999-12' is out of range: use a period from 1900 to 2100.",
    ),
    (
        "a negative value",
        bad_row("rep,Alice,revenue_won,2017-Q2,-5"),
        "line 3: A revenue won target cannot be negative.",
    ),
    (
        "a value too large",
        bad_row("rep,Alice,revenue_won,2017-Q2,1e15"),
        "line 3: A target must be below 100,000,000,000,000.",
    ),
    ("a word for a value", bad_row("rep,Alice,revenue_won,2017-Q2,many"), "line 3: 'many' is not a number."),
    ("NaN", bad_row("rep,Alice,revenue_won,2017-Q2,NaN"), "line 3: A target must be a finite number."),
    (
        "an uplift too large",
        b"scope,name,metric,period,value,baseline,uplift_pct\nrep,Alice,revenue_won,2017-Q2,,2017-Q1,1e9\n",
        "line 2: An uplift must be a number between -100,000 and 100,000.",
    ),
]


def ids(cases):
    return [c[0] for c in cases]


@pytest.mark.parametrize(("content", "message"), [c[1:] for c in BAD_FILES], ids=ids(BAD_FILES))
def test_the_upload_page_reports_a_bad_file_and_imports_nothing(org, alice_q1, signed_in, content, message):
    client = signed_in(org.east_manager)
    with assert_unchanged(*TARGETS):
        response = client.post(
            "/targets/import/", {"kind": "targets", "file": SimpleUploadedFile("plan.csv", content)}
        )
        assert response.status_code == 200
        assert message[:300] in page_errors(response)
        assert_shown(response, message[:300])
        # Nothing is pending: confirming imports nothing either.
        confirmed = client.post("/targets/import/", {"confirm": "1"}, follow=True)
        assert_shown(confirmed, "Nothing to import: upload the file again.")
    assert Target.objects.get().value == 1000


def page_errors(response) -> str:
    preview = response.context["preview"] or {}
    return " ".join([*preview.get("errors", []), *response.context["form"].errors.get("file", [])])


@pytest.mark.parametrize(("content", "message"), [c[1:] for c in BAD_FILES], ids=ids(BAD_FILES))
def test_import_targets_reports_a_bad_file_and_imports_nothing(
    org, alice_q1, tmp_path, capsys, content, message
):
    path = tmp_path / "plan.csv"
    path.write_bytes(content)
    with assert_unchanged(*TARGETS), pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_targets", str(path), "--user", "east_manager")
    assert message in capsys.readouterr().err


def test_an_empty_upload_is_refused_by_the_form(org, signed_in):
    client = signed_in(org.east_manager)
    with assert_unchanged(*TARGETS):
        response = client.post(
            "/targets/import/", {"kind": "targets", "file": SimpleUploadedFile("p.csv", b"")}
        )
    assert response.context["form"].errors == {"file": ["The submitted file is empty."]}


def test_an_empty_file_is_refused_by_the_command(org, tmp_path, capsys):
    (tmp_path / "plan.csv").write_bytes(b"")
    with assert_unchanged(*TARGETS), pytest.raises(CommandError, match="1 error"):
        call_command("import_targets", str(tmp_path / "plan.csv"), "--user", "east_manager")
    assert "The file is empty: expected the header scope,name,metric,period,value." in capsys.readouterr().err


@pytest.fixture
def huge_file():
    """21 MB of rows, over the 5 MB import limit (settings.IMPORT_MAX_MB)."""
    content = (HEADER + GOOD * (21 * 1024 * 1024 // len(GOOD))).encode()
    assert len(content) > 21 * 1024 * 1024
    return content


def test_a_huge_upload_is_refused_before_it_is_read(org, alice_q1, signed_in, huge_file):
    client = signed_in(org.admin)
    with assert_unchanged(*TARGETS):
        response = client.post(
            "/ops/import/", {"kind": "targets", "file": SimpleUploadedFile("p.csv", huge_file)}
        )
    assert response.context["form"].errors == {
        "file": ["The file is over 5 MB: split it into smaller files."]
    }
    assert response.context["preview"] is None  # not parsed, not dry-run


def test_a_huge_file_is_refused_by_the_command(org, alice_q1, tmp_path, capsys, huge_file):
    (tmp_path / "plan.csv").write_bytes(huge_file)
    with assert_unchanged(*TARGETS), pytest.raises(CommandError):
        call_command("import_targets", str(tmp_path / "plan.csv"), "--user", "east_manager")
    assert capsys.readouterr().err == "The file is over 5 MB: split it into smaller files.\n"


def test_far_more_rows_than_the_limit_are_refused(org, alice_q1, signed_in):
    content = (HEADER + GOOD * 50_001).encode()  # under 5 MB, over 50,000 rows
    client = signed_in(org.east_manager)
    with assert_unchanged(*TARGETS):
        response = client.post(
            "/targets/import/", {"kind": "targets", "file": SimpleUploadedFile("p.csv", content)}
        )
    assert response.context["preview"]["errors"] == [
        "The file has more than 50,000 rows: split it into smaller files."
    ]


def test_a_file_that_became_wrong_after_its_preview_imports_nothing(org, alice_q1, signed_in):
    client = signed_in(org.east_manager)
    content = (HEADER + GOOD + "rep,Bob,revenue_won,2017-Q1,500\n").encode()
    preview = client.post(
        "/targets/import/", {"kind": "targets", "file": SimpleUploadedFile("p.csv", content)}
    )
    assert preview.context["preview"]["errors"] == []
    org.bob.team = org.west  # Bob leaves the manager's team before she confirms
    org.bob.save()
    with assert_unchanged(*TARGETS):
        response = client.post("/targets/import/", {"confirm": "1"})
    assert response.status_code == 200
    assert_shown(response, "line 3: no rep named 'Bob' that you may set targets for.")
