"""A drill-down lists the records behind a figure only as far as the viewer may see them; the
rest are counted ("2 more records … teams you cannot see"), never named — in HTML and CSV."""

import datetime as dt
from decimal import Decimal

import pytest

from kpis import engine
from tests.factories import CustomerFactory, OpportunityFactory, won_stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_customer(org):
    """Alice owns Globex; carol (another team) wins a deal from it, as does alice."""
    won = won_stage()
    globex = CustomerFactory(name="Globex", owner=org.alice, acquired_on=dt.date(2016, 1, 1))
    for rep, name, amount in [
        (org.alice, "Alice's Globex deal", 100),
        (org.carol, "Carol's Globex deal", 900),
    ]:
        OpportunityFactory(
            name=name,
            rep=rep,
            customer=globex,
            stage=won,
            amount=Decimal(amount),
            created_on=dt.date(2017, 1, 2),
            closed_on=dt.date(2017, 1, 20),
        )
    engine.recompute_all()
    return globex


@pytest.mark.parametrize("metric", ["cltv", "repeat_purchase_rate"])
def test_a_rep_sees_their_customers_deals_but_not_another_teams(client, org, shared_customer, metric):
    client.force_login(org.alice.user)
    url = f"/drill/?scope=rep&subject={org.alice.pk}&metric={metric}&period=2017-01"
    html = client.get(url).content.decode()
    assert "Alice&#x27;s Globex deal" in html or "Alice's Globex deal" in html
    assert "Carol" not in html and "900" not in html
    assert "1 more record behind this figure belongs to teams you cannot see" in html
    csv = b"".join(client.get(url + "&format=csv").streaming_content).decode()
    assert "Alice's Globex deal" in csv
    assert "Carol" not in csv


def test_an_admin_sees_every_record_and_no_hidden_note(client, org, shared_customer):
    client.force_login(org.admin)
    html = client.get(f"/drill/?scope=rep&subject={org.alice.pk}&metric=cltv&period=2017-01").content.decode()
    assert "Carol" in html
    assert "cannot see" not in html


def test_a_figure_that_does_not_apply_says_so_instead_of_a_number(client, org, shared_customer):
    # Spend recorded for a team only: CAC does not apply to a rep.
    from tests.factories import AcquisitionSpendFactory

    AcquisitionSpendFactory(team=org.east, spent_on=dt.date(2017, 1, 5), amount=Decimal(500))
    engine.recompute_all()
    client.force_login(org.alice.user)
    html = client.get(f"/drill/?scope=rep&subject={org.alice.pk}&metric=cac&period=2017-01").content.decode()
    assert "Not applicable: acquisition spend is recorded for teams" in html
    assert ">n/a<" in html


def test_after_a_customer_changes_owner_neither_rep_sees_the_others_deals(client, org, shared_customer):
    """The former-owner case: Globex passes from alice to carol (another team). Its deals now
    count for carol; her drill-down names her own deal and counts alice's; alice's no longer
    lists Globex at all."""
    shared_customer.owner = org.carol
    shared_customer.save()
    engine.recompute_all()
    client.force_login(org.carol.user)
    html = client.get(f"/drill/?scope=rep&subject={org.carol.pk}&metric=cltv&period=2017-01").content.decode()
    assert "Carol" in html and "Alice" not in html
    assert "1 more record behind this figure belongs to teams you cannot see" in html
    client.force_login(org.alice.user)
    html = client.get(f"/drill/?scope=rep&subject={org.alice.pk}&metric=cltv&period=2017-01").content.decode()
    assert "Globex" not in html
