"""The CRM import never reshapes the organisation behind the admin's back: matching people and
teams by name, it would make an existing user a manager, move an existing rep, or detach an
existing team. Each such change is listed (the upload page's preview shows it) and the import
applies none of them unless the admin confirms exactly that list; an import that changes nothing
that exists (a first import of new people, a re-import of the same files) needs no confirmation."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import TestCase

from kpis.crm_import import OrgChangesUnconfirmed, import_crm
from kpis.models import Opportunity
from teams.models import Rep, Team
from tests.factories import RepFactory, UserFactory

pytestmark = pytest.mark.django_db

PIPELINE = (
    "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
    "Z1,{agent},GTX Pro,Cancity,Won,2017-01-02,2017-02-01,100\n"
)


def files(agent, manager, region) -> dict[str, str]:
    return {
        "sales_teams.csv": f"sales_agent,manager,regional_office\n{agent},{manager},{region}\n",
        "products.csv": "product,sales_price\nGTX Pro,4821\n",
        "accounts.csv": "account,sector\nCancity,retail\n",
        "sales_pipeline.csv": PIPELINE.format(agent=agent),
    }


def crm_dir(tmp_path, **names):
    for name, text in files(**names).items():
        (tmp_path / name).write_text(text)
    return tmp_path


def run(directory, **kwargs):
    return import_crm(directory, recompute=False, progress=lambda *_: None, **kwargs)


def test_an_import_never_makes_an_existing_user_a_manager_unasked(org, tmp_path):
    directory = crm_dir(tmp_path, agent="Zed Newman", manager="Alice", region="Central")  # user "alice"

    with pytest.raises(OrgChangesUnconfirmed) as refused:
        run(directory)

    assert "alice" in str(refused.value) and "manager" in str(refused.value)
    assert not Team.objects.filter(manager=org.alice.user).exists()
    assert not Opportunity.objects.exists()  # nothing at all: the import is one transaction


def test_an_import_never_moves_an_existing_rep_unasked(org, tmp_path):
    directory = crm_dir(tmp_path, agent="Bob", manager="Nora Newboss", region="Central")

    with pytest.raises(OrgChangesUnconfirmed, match="Bob"):
        run(directory)

    assert Rep.objects.get(full_name="Bob").team == org.east


def test_an_import_never_detaches_a_team_unasked(org, tmp_path):
    directory = crm_dir(tmp_path, agent="Zed Newman", manager="Nora Newboss", region="East")

    with pytest.raises(OrgChangesUnconfirmed, match="East"):
        run(directory)

    org.east.refresh_from_db()
    assert org.east.parent == org.region


def test_confirmed_changes_are_applied_and_only_those(org, tmp_path):
    directory = crm_dir(tmp_path, agent="Bob", manager="Nora Newboss", region="Central")
    with pytest.raises(OrgChangesUnconfirmed) as refused:
        run(directory)

    run(directory, confirm_org=refused.value.digest)

    assert Rep.objects.get(full_name="Bob").team.name == "Nora Newboss"
    (directory / "sales_teams.csv").write_text(files("Carol", "Nora Newboss", "Central")["sales_teams.csv"])
    with pytest.raises(OrgChangesUnconfirmed, match="Carol"):  # another list: that confirmation is void
        run(directory, confirm_org=refused.value.digest)


def test_new_people_and_a_reimport_need_no_confirmation(org, tmp_path):
    directory = crm_dir(tmp_path, agent="Zed Newman", manager="Nora Newboss", region="Central")

    assert run(directory).org_changes == []
    assert run(directory).org_changes == []  # the same files again: nothing in the org changes
    assert Rep.objects.get(full_name="Zed Newman").team.parent.name == "Central"


def test_the_command_says_what_it_would_change_and_takes_a_confirmation(org, tmp_path):
    directory = crm_dir(tmp_path, agent="Bob", manager="Nora Newboss", region="Central")

    with pytest.raises(CommandError, match="Bob") as refused:
        call_command("import_crm", str(directory), "--no-recompute")
    assert "--confirm-org-changes" in str(refused.value)

    call_command("import_crm", str(directory), "--no-recompute", "--confirm-org-changes")
    assert Rep.objects.get(full_name="Bob").team.name == "Nora Newboss"


def upload(client, preview):
    """Upload, let the background job run (eagerly, once the request commits), open its page."""
    data = {
        name: SimpleUploadedFile(name, text.encode())
        for name, text in files("Bob", "Nora Newboss", "Central").items()
    }
    with TestCase.captureOnCommitCallbacks(execute=True):
        started = client.post("/ops/import/crm/", {**data, **({"preview": "on"} if preview else {})})
    return client.get(started.url)


def import_previewed(client, job, **confirm):
    with TestCase.captureOnCommitCallbacks(execute=True):
        started = client.post(f"/ops/jobs/{job.pk}/import/", confirm)
    return client.get(started.url)


def test_the_upload_page_previews_org_changes_and_imports_them_only_when_confirmed(org, client):
    client.force_login(org.admin)

    previewed = upload(client, preview=True)
    preview = previewed.content.decode()
    assert "Bob" in preview and "would move" in preview
    digest = preview.split('name="confirm_org" value="')[1].split('"')[0]

    unconfirmed = import_previewed(client, previewed.context["job"]).content.decode()
    assert "Nothing was imported" in unconfirmed
    assert Rep.objects.get(full_name="Bob").team == org.east

    import_previewed(client, previewed.context["job"], confirm_org=digest)
    assert Rep.objects.get(full_name="Bob").team.name == "Nora Newboss"


def test_an_import_without_preview_does_not_change_the_org_unconfirmed(org, client):
    client.force_login(org.admin)
    refused = upload(client, preview=False)
    assert refused.context["job"].state == "failed" and "Nothing was imported" in refused.content.decode()
    assert Rep.objects.get(full_name="Bob").team == org.east


def two_agents(tmp_path, first: str, second: str):
    (tmp_path / "sales_teams.csv").write_text(
        f"sales_agent,manager,regional_office\n{first},Nora Newboss,Central\n{second},Nora Newboss,Central\n"
    )
    for name, text in files(second, "Nora Newboss", "Central").items():
        if name != "sales_teams.csv":
            (tmp_path / name).write_text(text)
    return tmp_path


def test_an_agent_whose_user_is_already_another_rep_is_a_reported_row(org, tmp_path):
    # "Erik Patel" makes the username erik.patel, whose user is already the rep "E. Patel": a
    # user is one rep at most, and the confirmed import used to crash on that rule (a 500).
    patel = RepFactory(full_name="E. Patel", team=org.west, user=UserFactory(username="erik.patel"))
    directory = two_agents(tmp_path, "Zed Newman", "Erik Patel")

    report = run(directory, confirm_org=True)

    assert report.skipped == [
        "sales_teams.csv, line 3: Erik Patel would be the user 'erik.patel', "
        "who is already the rep 'E. Patel'",
        "sales_pipeline.csv, line 2: sales_agent: unknown owner 'Erik Patel'",
    ]
    assert not Rep.objects.filter(full_name="Erik Patel").exists()
    assert Rep.objects.get(user=patel.user) == patel and Rep.objects.get(pk=patel.pk).team == org.west
    assert Rep.objects.get(full_name="Zed Newman").team.name == "Nora Newboss"  # the rest is imported
    assert not Opportunity.objects.exists()


def test_two_agents_whose_names_make_one_username_are_one_imported_and_one_reported(org, tmp_path):
    directory = two_agents(tmp_path, "Erik Patel", "Erik-Patel")

    report = run(directory)

    assert report.skipped[0] == (
        "sales_teams.csv, line 3: Erik-Patel would be the user 'erik.patel', "
        "as Erik Patel on an earlier line is"
    )
    assert list(Rep.objects.filter(user__username="erik.patel").values_list("full_name", flat=True)) == [
        "Erik Patel"
    ]


def test_the_command_reports_the_row_and_does_not_crash(org, tmp_path, capsys):
    RepFactory(full_name="E. Patel", team=org.west, user=UserFactory(username="erik.patel"))
    directory = two_agents(tmp_path, "Zed Newman", "Erik Patel")
    call_command("import_crm", str(directory), "--confirm-org-changes", "--no-recompute")
    assert (
        "skipped sales_teams.csv, line 3: Erik Patel would be the user 'erik.patel'"
        in capsys.readouterr().err
    )
