"""A re-import of the public CRM data with one agent under another manager moves the agent from
today, and leaves every figure of every period that ended before today byte-identical."""

import shutil

import pytest
from django.utils import timezone

from kpis import engine
from kpis.crm_import import import_crm
from teams.models import Membership
from tests.integration.test_reorg_history import ended_before, exported

pytestmark = pytest.mark.django_db


def test_a_reimport_with_an_agent_under_another_manager_leaves_every_closed_period_as_it_was(
    data_dir, tmp_path
):
    import_crm(data_dir, recompute=False, progress=lambda *_: None)
    engine.recompute_all()
    before = exported()
    for name in ("accounts.csv", "products.csv", "sales_pipeline.csv"):
        shutil.copy(data_dir / name, tmp_path / name)
    teams = (data_dir / "sales_teams.csv").read_text()
    moved = teams.replace("Anna Snelling,Dustin Brinkmann,", "Anna Snelling,Melvin Marxen,")
    assert moved != teams
    (tmp_path / "sales_teams.csv").write_text(moved)

    import_crm(tmp_path, recompute=False, progress=lambda *_: None, confirm_org=True)
    engine.recompute_all()

    today = timezone.localdate()
    assert Membership.objects.filter(
        rep__full_name="Anna Snelling", since=today, team__name="Melvin Marxen"
    ).exists()
    after = exported()
    assert after.keys() == before.keys()
    assert len(ended_before(before, today)) > 10_000
    assert ended_before(after, today) == ended_before(before, today)
