"""/healthz: public, "ok" while the app and its database answer; reads nothing else."""

import pytest

pytestmark = pytest.mark.django_db


def test_it_says_ok_to_anyone(client, django_assert_num_queries):
    with django_assert_num_queries(1):  # SELECT 1, no session, no user
        response = client.get("/healthz")
    assert (response.status_code, response["Content-Type"], response.content) == (200, "text/plain", b"ok")


def test_it_takes_no_writes(client):
    assert client.post("/healthz").status_code == 405
