"""import_crm on broken input: rows reported with file, line and reason; bad files import nothing."""

import shutil

import pytest
from django.core.management import CommandError, call_command

from kpis.crm_import import import_crm
from kpis.models import Opportunity
from teams.models import Rep


def write(dir_, name, text, encoding="utf-8"):
    (dir_ / name).write_text(text, encoding=encoding)


@pytest.fixture
def small_dir(tmp_path, data_dir):
    for name in ("sales_teams.csv", "products.csv", "accounts.csv"):
        shutil.copy(data_dir / name, tmp_path / name)
    return tmp_path


def test_bad_rows_are_reported_with_file_line_and_reason_and_skipped_whole(small_dir, db):
    write(
        small_dir,
        "sales_pipeline.csv",
        "\n".join(
            [
                "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value",
                "A1,Moses Frase,GTX Basic,Cancity,Won,2017-01-02,2017-02-01,500",
                "A2,Nobody Here,GTX Basic,Cancity,Won,2017-01-02,2017-02-01,500",
                "A3,Moses Frase,GTX Basic,Cancity,Won,2017-03-02,2017-02-01,500",
                "A4,Moses Frase,GTX Basic,Cancity,Won,2017-01-02,,500",
                "A1,Moses Frase,GTX Basic,Cancity,Won,2017-01-02,2017-02-01,500",
                "A5,Moses Frase,Unknown Box,,Engaging,2017-01-02,,",
                "A6,Moses Frase,GTX Basic,Cancity,Won,02/01/2017,2017-02-01,500",
            ]
        )
        + "\n",
    )
    report = import_crm(small_dir, recompute=False, progress=lambda *_: None)
    assert [line.split(": ", 1)[0] for line in report.skipped] == [
        "sales_pipeline.csv, line 3",
        "sales_pipeline.csv, line 4",
        "sales_pipeline.csv, line 5",
        "sales_pipeline.csv, line 6",
        "sales_pipeline.csv, line 7",
        "sales_pipeline.csv, line 8",
    ]
    assert "Nobody Here" in report.skipped[0]
    assert "close date is before the creation date" in report.skipped[1]
    assert list(Opportunity.objects.values_list("external_id", flat=True)) == ["A1"]


def test_a_file_in_the_wrong_encoding_or_missing_a_column_imports_nothing(small_dir, db):
    write(small_dir, "sales_pipeline.csv", "opportunity_id,sales_agent\nA1,Zoë\n")
    with pytest.raises(CommandError, match="missing column"):
        call_command("import_crm", str(small_dir), "--no-recompute")
    write(
        small_dir,
        "sales_pipeline.csv",
        "opportunity_id,sales_agent,product,account,deal_stage,engage_date,"
        "close_date,close_value\nA1,Zoë,x,,Won,2017-01-01,2017-01-02,1\n",
        encoding="latin-1",
    )
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_crm", str(small_dir), "--no-recompute")
    assert not Rep.objects.exists()
    assert not Opportunity.objects.exists()
