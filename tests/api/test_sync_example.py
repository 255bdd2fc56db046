"""docs/examples/sync_opportunities.py, run as a user would, against a live server."""

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from rest_framework.authtoken.models import Token

from kpis.models import Opportunity
from tests.factories import OpportunityFactory

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "sync_opportunities.py"


def test_the_sync_script_posts_a_crm_export_in_batches_and_reports_by_line(
    org, stages, live_server, tmp_path
):
    stored = OpportunityFactory(external_id="HS-1", rep=org.alice, stage=stages["open"])
    export = tmp_path / "deals.csv"
    export.write_text(
        "\ufeffRecord ID,Deal Name,Amount,Create Date,Close Date,Deal Stage,Deal owner id\n"
        f'HS-1,Acme renewal,"$1,200.50",2017-01-10,,engaging,{org.alice.pk}\n'
        f"HS-2,Globex,300,2017-01-12 09:30,2017-02-03,Won,{org.bob.pk}\n"
        f"HS-3,Initech,50,2017-01-15,,Negotiation,{org.bob.pk}\n",
        encoding="utf-8",
    )
    token = Token.objects.create(user=org.east_manager)

    run = subprocess.run(
        [sys.executable, SCRIPT, export, "--url", live_server.url, "--token", token.key, "--batch", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    # Batch 1 (lines 2-3): HS-1 updated, HS-2 created. Batch 2 (line 4): an unknown stage, refused.
    assert run.stdout.splitlines() == [
        "created 1, updated 1",
        "line 4: HS-3: stage: Incorrect type. Expected pk value, received str.",
    ], run.stderr
    assert run.returncode == 1
    stored.refresh_from_db()
    assert (stored.name, stored.amount) == ("Acme renewal", Decimal("1200.50"))
    globex = Opportunity.objects.get(external_id="HS-2")
    assert (globex.rep, globex.stage, str(globex.created_on), str(globex.closed_on)) == (
        org.bob,
        stages["won"],
        "2017-01-12",
        "2017-02-03",
    )
    assert not Opportunity.objects.filter(external_id="HS-3").exists()
