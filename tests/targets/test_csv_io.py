"""Targets as CSV: export → import round-trips; a bad row is named by its line and nothing is written."""

import datetime as dt
import io
from decimal import Decimal as D

import pytest
from django.core.management import CommandError, call_command

from targets import csv_io
from targets.csv_io import targets_export_csv, targets_import_csv
from targets.models import Target

HEADER = "scope,name,metric,period,value\n"


def csv_file(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def exported(user) -> str:
    stream = io.StringIO()
    targets_export_csv(targets=Target.objects.visible_to(user), stream=stream)
    return stream.getvalue()


def stored() -> set[tuple]:
    return set(
        Target.objects.values_list(
            "scope", "rep__full_name", "team__name", "metric", "period_kind", "period_start", "value",
            "baseline_start", "uplift_pct",
        )
    )  # fmt: skip


@pytest.fixture
def planned(org, set_target, deal, recompute):
    """A plan of every kind: a rep's, a team's (relative), the company's, a month's, a rate."""
    deal(org.alice, "won", "3000", "2017-01-02", "2017-02-20")  # East's 2017-Q1: 3000
    recompute()
    set_target(org.east_manager, org.alice, "revenue_won", "2017-Q2", "1000.5")
    set_target(org.east_manager, org.alice, "win_rate", "2017-04", "0.333333")
    set_target(org.east_manager, org.east, "revenue_won", "2017-Q2", baseline="2017-Q1", uplift_pct="12.5")
    set_target(org.boss, org.carol, "deals_won", "2017", "24")
    set_target(org.admin, "company", "revenue_won", "2017", "1000000")


def test_an_export_imports_back_to_the_same_targets(org, planned):
    before, text = stored(), exported(org.admin)
    assert text.splitlines() == [
        "scope,name,metric,period,value,baseline,uplift_pct",
        "rep,Alice,win_rate,2017-04,0.333333,,",
        "rep,Alice,revenue_won,2017-Q2,1000.500000,,",
        # East's 2017-Q1 3000 + 12.5% = 3375, recomputed from the baseline on import
        "team,East,revenue_won,2017-Q2,,2017-Q1,12.50",
        "company,all,revenue_won,2017,1000000.000000,,",
        "rep,Carol,deals_won,2017,24.000000,,",
    ]
    assert Target.objects.get(team=org.east).value == D(3375)
    Target.objects.all().delete()

    assert targets_import_csv(user=org.admin, file=csv_file(text)) == []
    assert stored() == before
    assert exported(org.admin) == text


def test_reimporting_an_export_changes_nothing(org, planned):
    before, text = stored(), exported(org.admin)
    assert targets_import_csv(user=org.admin, file=csv_file(text)) == []
    assert stored() == before
    assert Target.objects.count() == 5


def test_it_exports_only_what_the_user_may_see(org, planned):
    east = exported(org.east_manager).splitlines()
    assert [line.split(",")[1] for line in east[1:]] == ["Alice", "Alice", "East"]
    alice = exported(org.alice.user).splitlines()
    assert [line.split(",")[1] for line in alice[1:]] == ["Alice", "Alice"]
    assert exported(org.outsider).splitlines() == ["scope,name,metric,period,value,baseline,uplift_pct"]


def test_a_manager_imports_targets_for_their_reps_and_teams(org):
    text = HEADER + "rep,Alice,revenue_won,2017-Q1,1000\nteam,East,deals_won,2017-01,12\n"
    assert targets_import_csv(user=org.east_manager, file=csv_file(text)) == []
    assert stored() == {
        ("rep", "Alice", None, "revenue_won", "quarter", dt.date(2017, 1, 1), D(1000), None, None),
        ("team", None, "East", "deals_won", "month", dt.date(2017, 1, 1), D(12), None, None),
    }
    assert {t.created_by for t in Target.objects.all()} == {org.east_manager}
    assert {t.history.get().history_user for t in Target.objects.all()} == {org.east_manager}


def test_every_bad_row_is_reported_by_line_and_nothing_is_written(org):
    text = HEADER + (
        "rep,Alice,revenue_won,2017-Q1,1000\n"  # line 2: fine, but not written
        "rep,Zed,revenue_won,2017-Q1,1000\n"
        "rep,Alice,revenue,2017-Q1,1000\n"
        "rep,Bob,revenue_won,2017-Q5,1000\n"
        "team,East,revenue_won,2017-Q1,-5\n"
        "rep,Bob,win_rate,2017-Q1,1.5\n"
        "team,Nowhere,revenue_won,2017-Q1,1\n"
        "company,everyone,revenue_won,2017,1\n"
        "region,East,revenue_won,2017,1\n"
        "rep,Bob,revenue_won,2017-Q1\n"
        "rep,Bob,revenue_won,2017-Q2,\n"
    )
    errors = targets_import_csv(user=org.east_manager, file=csv_file(text))
    assert errors[0] == "line 3: no rep named 'Zed' that you may set targets for."
    assert errors[1].startswith("line 4: Unknown metric 'revenue'. Known: revenue_won,")
    assert errors[2:] == [
        "line 5: '2017-Q5' is not a period: use 2017-03, 2017-Q1 or 2017.",
        "line 6: A revenue won target cannot be negative.",
        "line 7: Win rate is a fraction from 0 to 1 (0.3 = 30%).",
        "line 8: no team named 'Nowhere' that you may set targets for.",
        "line 9: a company target's name is 'all', not 'everyone'.",
        "line 10: 'region' is not a scope: use rep, team or company.",
        "line 11: expected 5 fields, found 4.",
        "line 12: Give a value, or a baseline period with an uplift.",
    ]
    assert not Target.objects.exists()


def test_a_failing_row_leaves_the_targets_already_there_as_they_were(org, set_target):
    set_target(org.east_manager, org.alice, "revenue_won", "2017-Q1", "500")
    text = HEADER + "rep,Alice,revenue_won,2017-Q1,1000\nrep,Zed,revenue_won,2017-Q1,1000\n"
    assert targets_import_csv(user=org.east_manager, file=csv_file(text)) == [
        "line 3: no rep named 'Zed' that you may set targets for."
    ]
    assert Target.objects.get().value == 500
    assert Target.objects.get().history.count() == 1


def test_a_manager_cannot_import_a_target_outside_their_subtree(org):
    text = HEADER + (
        "rep,Alice,revenue_won,2017-Q1,1000\n"
        "rep,Carol,revenue_won,2017-Q1,1000\n"
        "team,West,revenue_won,2017-Q1,1\n"
    )
    assert targets_import_csv(user=org.east_manager, file=csv_file(text)) == [
        "line 3: no rep named 'Carol' that you may set targets for.",
        "line 4: no team named 'West' that you may set targets for.",
    ]
    assert not Target.objects.exists()


def test_a_rep_cannot_import_even_her_own_targets(org):
    text = HEADER + "rep,Alice,revenue_won,2017-Q1,1000\n"
    assert targets_import_csv(user=org.alice.user, file=csv_file(text)) == [
        "line 2: no rep named 'Alice' that you may set targets for."
    ]


def test_a_target_twice_in_a_file_is_an_error_on_the_second_line(org):
    text = HEADER + (
        "rep,Alice,revenue_won,2017-Q1,1000\n"
        "rep,Bob,revenue_won,2017-Q1,1000\n"
        "rep,Alice,revenue_won,2017-Q1,2000\n"
        "rep,Alice,revenue_won,2017-Q2,2000\n"
        "rep,Bob,revenue_won,2017-1,1\n"
        "rep,Bob,revenue_won,2017-01,1\n"
    )
    assert targets_import_csv(user=org.east_manager, file=csv_file(text)) == [
        "line 4: repeats line 2 (Alice, revenue_won, 2017-Q1).",
        "line 7: repeats line 6 (Bob, revenue_won, 2017-01).",
    ]
    assert not Target.objects.exists()


def test_relative_targets_import_with_baseline_and_uplift(org, deal, recompute):
    deal(org.alice, "won", "2000", "2017-01-02", "2017-02-20")
    recompute()
    text = (
        "scope,name,metric,period,value,baseline,uplift_pct\n"
        "rep,Alice,revenue_won,2017-Q2,,2017-Q1,10\n"
        "rep,Bob,revenue_won,2016-Q2,,2016-Q1,10\n"
        "rep,Alice,revenue_won,2017-Q3,5,2017-Q2,10\n"
    )
    assert targets_import_csv(user=org.east_manager, file=csv_file(text)) == [
        "line 3: No revenue won figure for Bob in 2016-Q1 to grow from.",
        "line 4: Give a value or a baseline with an uplift, not both.",
    ]
    text = "scope,name,metric,period,value,baseline,uplift_pct\nrep,Alice,revenue_won,2017-Q2,,2017-Q1,10\n"
    assert targets_import_csv(user=org.east_manager, file=csv_file(text)) == []
    # 2000 + 10%
    assert Target.objects.values_list("value", "uplift_pct").get() == (D(2200), D(10))


def test_a_utf8_file_with_a_byte_order_mark_and_spaces_imports(org):
    org.alice.full_name = "Zoë Ålund"
    org.alice.save()
    text = "\ufeffScope, Name ,metric,period,value\r\n rep , Zoë Ålund ,revenue_won,2017-Q1, 1000 \r\n\r\n"
    assert targets_import_csv(user=org.east_manager, file=csv_file(text)) == []
    assert Target.objects.get().rep == org.alice


def test_a_file_that_is_not_utf8_is_refused_as_a_whole(org):
    org.alice.full_name = "Zoë"
    org.alice.save()
    errors = targets_import_csv(
        user=org.east_manager, file=csv_file(HEADER + "rep,Zoë,revenue_won,2017-Q1,1\n", "latin-1")
    )
    assert errors == ["The file is not UTF-8 text (line 2 is not): save it as 'CSV UTF-8' and try again."]
    assert not Target.objects.exists()


def test_a_missing_column_is_one_clear_error(org):
    errors = targets_import_csv(
        user=org.east_manager, file=csv_file("scope,name,metric,period\nrep,Alice,revenue_won,2017-Q1\n")
    )
    assert errors == [
        "The header lacks the column(s) value: expected scope,name,metric,period,value "
        "(and optionally baseline,uplift_pct)."
    ]
    assert not Target.objects.exists()


def test_an_unknown_column_is_refused_rather_than_ignored(org):
    errors = targets_import_csv(
        user=org.east_manager, file=csv_file("scope,name,metric,period,value,uplift\n")
    )
    assert errors == [
        "The header has unknown column(s) uplift: expected scope,name,metric,period,value "
        "(and optionally baseline,uplift_pct)."
    ]


def test_an_empty_file_is_refused(org):
    assert targets_import_csv(user=org.east_manager, file=csv_file("")) == [
        "The file is empty: expected the header scope,name,metric,period,value."
    ]


def test_a_file_over_the_row_limit_is_refused(org, monkeypatch):
    monkeypatch.setattr(csv_io, "MAX_ROWS", 2)
    text = HEADER + "".join(f"rep,Alice,revenue_won,2017-0{m},1\n" for m in (1, 2, 3))
    assert targets_import_csv(user=org.east_manager, file=csv_file(text)) == [
        "The file has more than 2 rows: split it into smaller files."
    ]
    assert not Target.objects.exists()


def test_a_file_over_the_size_limit_is_refused_unread(org, settings):
    settings.IMPORT_MAX_MB = 1
    big = csv_file(HEADER + "rep,Alice,revenue_won,2017-01,1\n" * 40_000)
    assert targets_import_csv(user=org.east_manager, file=big) == [
        "The file is over 1 MB: split it into smaller files."
    ]
    assert not Target.objects.exists()


# --- the commands


def test_import_targets_imports_a_file_as_the_user(org, tmp_path, capsys):
    path = tmp_path / "plan.csv"
    path.write_text(HEADER + "rep,Alice,revenue_won,2017-Q1,1000\n", encoding="utf-8")
    call_command("import_targets", str(path), "--user", "east_manager")
    assert f"Imported the targets of {path}." in capsys.readouterr().out
    assert Target.objects.get().created_by == org.east_manager


def test_import_targets_fails_with_the_errors_on_stderr(org, tmp_path, capsys):
    path = tmp_path / "plan.csv"
    path.write_text(HEADER + "rep,Alice,revenue_won,2017-Q1,1000\nrep,Carol,revenue_won,2017-Q1,1\n")
    with pytest.raises(CommandError, match="1 error\\(s\\); nothing was imported"):
        call_command("import_targets", str(path), "--user", "east_manager")
    assert capsys.readouterr().err.splitlines() == [
        "line 3: no rep named 'Carol' that you may set targets for."
    ]
    assert not Target.objects.exists()


def test_import_targets_exits_non_zero_from_the_command_line(org, tmp_path):
    # CommandError is what manage.py turns into exit status 1 and a message on stderr.
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("import_targets", str(tmp_path / "plan.csv"), "--user", "nobody")
    with pytest.raises(CommandError, match=r"Cannot read .*plan\.csv: No such file or directory"):
        call_command("import_targets", str(tmp_path / "plan.csv"), "--user", "east_manager")


def test_export_targets_prints_csv_for_a_user_or_everyone(org, planned):
    out = io.StringIO()
    call_command("export_targets", "--user", "east_manager", stdout=out)
    assert out.getvalue() == exported(org.east_manager)
    out = io.StringIO()
    call_command("export_targets", stdout=out)
    assert out.getvalue() == exported(org.admin)
    assert len(out.getvalue().splitlines()) == 6
