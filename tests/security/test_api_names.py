"""An API row never names a record its reader may not see, even one it points at: a deal of a
rep you see, whose customer belongs to a rep you do not, gives the customer's id and no name."""

import pytest
from rest_framework.test import APIClient

from tests.factories import CustomerFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


def deal_for_alice_with_carols_customer(org):
    return OpportunityFactory(
        rep=org.alice, customer=CustomerFactory(name="Carol's Secret Ltd", owner=org.carol)
    )


def get(user, url):
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.json()


def test_a_deal_does_not_name_a_customer_its_reader_may_not_see(org):
    deal = deal_for_alice_with_carols_customer(org)

    for user in (org.alice.user, org.east_manager):
        detail = get(user, f"/api/v1/opportunities/{deal.pk}/")
        listed = get(user, "/api/v1/opportunities/")["results"]
        assert detail["customer_name"] is None
        assert [row["customer_name"] for row in listed] == [None]
        assert "Carol's Secret" not in str(detail) + str(listed)


def test_a_deal_names_the_customer_for_those_who_see_it(org):
    deal = deal_for_alice_with_carols_customer(org)

    assert get(org.admin, f"/api/v1/opportunities/{deal.pk}/")["customer_name"] == "Carol's Secret Ltd"
    assert get(org.boss, f"/api/v1/opportunities/{deal.pk}/")["customer_name"] == "Carol's Secret Ltd"
