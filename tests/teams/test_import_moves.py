"""import_crm and the history: a re-import of the same files moves nobody; an agent under
another manager moves from today, and the old team keeps the agent's past."""

import shutil

import pytest
from django.utils import timezone

from kpis.crm_import import OrgChangesUnconfirmed, import_crm
from teams.models import Membership, Rep

AGENT, OLD, NEW = "Anna Snelling", "Dustin Brinkmann", "Melvin Marxen"  # both managers in Central


def run(directory, **kwargs):
    return import_crm(directory, recompute=False, progress=lambda *_: None, **kwargs)


@pytest.fixture
def imported(db, data_dir):
    run(data_dir)
    return data_dir


def test_reimporting_the_same_files_moves_nobody(imported):
    before = list(Membership.objects.order_by("pk").values_list("rep_id", "team_id", "since", "until"))

    run(imported)

    assert len(before) == Rep.objects.count() == 35
    assert (
        list(Membership.objects.order_by("pk").values_list("rep_id", "team_id", "since", "until")) == before
    )
    assert {since for _, _, since, _ in before} == {None}  # each is in their team from the start


def test_an_agent_under_another_manager_moves_from_today_and_the_old_team_keeps_their_past(
    imported, tmp_path
):
    for name in ("accounts.csv", "products.csv", "sales_pipeline.csv"):
        shutil.copy(imported / name, tmp_path / name)
    teams = (imported / "sales_teams.csv").read_text()
    assert f"{AGENT},{OLD},Central\n" in teams
    (tmp_path / "sales_teams.csv").write_text(teams.replace(f"{AGENT},{OLD},", f"{AGENT},{NEW},"))
    with pytest.raises(OrgChangesUnconfirmed, match=AGENT):
        run(tmp_path)

    run(tmp_path, confirm_org=True)

    today = timezone.localdate()
    anna = Rep.objects.get(full_name=AGENT)
    assert anna.team.name == NEW
    assert list(anna.memberships.order_by("until").values_list("team__name", "since", "until")) == [
        (OLD, None, today),
        (NEW, today, None),
    ]
    assert Membership.objects.count() == 36  # exactly one move
    assert Membership.objects.filter(team__name=OLD, rep=anna, until=today).exists()
