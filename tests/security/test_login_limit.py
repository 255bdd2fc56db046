"""Password guessing is cut short: after FAILURES_PER_PAIR failed sign-ins for a username from one
address (or FAILURES_PER_CLIENT from one address) even the right password is refused there until a
cool-down ends, on the login page, the admin's login and the API token endpoint alike; a username
guessed from everywhere (FAILURES_PER_USER) lets in only the addresses it has signed in from.
The counts are in the cache: Redis when REDIS_URL is set (as in CI), local memory otherwise."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from teams import login
from tests.services import wait_for

pytestmark = pytest.mark.django_db

PAGE = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"
ANOTHER_ADDRESS = "192.0.2.7"  # TEST-NET-1: only ever a value in the request's environ


def sign_in(client, username, password, path=PAGE, **extra):
    return client.post(path, {"username": username, "password": password}, **extra)


def signed_in_as(client) -> str | None:
    return client.session.get("_auth_user_id")


def fail(client, username, times, path=PAGE, **extra):
    for _ in range(times):
        response = sign_in(client, username, "wrong", path, **extra)
        assert response.status_code in (200, 400), response.status_code  # a plain wrong password


def test_after_too_many_failures_even_the_right_password_is_refused(org):
    client = Client()
    fail(client, "alice", login.FAILURES_PER_PAIR)

    response = sign_in(client, "alice", "pw")

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert 0 < int(response["Retry-After"]) <= login.LOCKOUT_SECONDS
    assert signed_in_as(client) is None


def test_one_failure_fewer_still_lets_the_right_password_in(org):
    client = Client()
    fail(client, "alice", login.FAILURES_PER_PAIR - 1)

    response = sign_in(client, "alice", "pw")

    assert response.status_code == 302
    assert signed_in_as(client) == str(org.alice.user.pk)


def test_a_success_starts_the_count_again(org):
    client = Client()
    fail(client, "alice", login.FAILURES_PER_PAIR - 1)
    assert sign_in(client, "alice", "pw").status_code == 302
    client.post("/accounts/logout/")

    fail(client, "alice", login.FAILURES_PER_PAIR - 1)

    assert sign_in(client, "alice", "pw").status_code == 302


def test_a_locked_username_does_not_lock_out_others(org):
    client = Client()
    fail(client, "alice", login.FAILURES_PER_PAIR)

    assert sign_in(client, "bob", "pw").status_code == 302


def test_the_lock_ends_after_the_cool_down(org, monkeypatch):
    monkeypatch.setattr(login, "LOCKOUT_SECONDS", 1)
    client = Client()
    fail(client, "alice", login.FAILURES_PER_PAIR)
    assert sign_in(client, "alice", "pw").status_code == 429

    wait_for(lambda: sign_in(Client(), "alice", "pw").status_code == 302, timeout=10, interval=0.25)


def test_one_address_guessing_many_usernames_is_stopped_there_only(org):
    client = Client()
    for n in range(login.FAILURES_PER_CLIENT):
        sign_in(client, f"guess{n}", "wrong")  # each username far from its own limit

    here = sign_in(client, "alice", "pw")
    elsewhere = sign_in(Client(), "alice", "pw", REMOTE_ADDR=ANOTHER_ADDRESS)

    assert here.status_code == 429
    assert elsewhere.status_code == 302


def test_the_api_token_endpoint_is_limited_too(org):
    client = APIClient()
    fail(client, "alice", login.FAILURES_PER_PAIR, TOKEN)

    response = sign_in(client, "alice", "pw", TOKEN)

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.json()["detail"]
    assert 0 < int(response["Retry-After"]) <= login.LOCKOUT_SECONDS
    assert "token" not in response.json()


def test_failures_count_together_on_the_page_and_the_api(org):
    fail(Client(), "alice", 2)
    fail(APIClient(), "alice", login.FAILURES_PER_PAIR - 2, TOKEN)

    assert sign_in(Client(), "alice", "pw").status_code == 429
    assert sign_in(APIClient(), "alice", "pw", TOKEN).status_code == 429


def test_the_admin_login_is_limited_too(org):
    client = Client()
    fail(client, "admin", login.FAILURES_PER_PAIR, "/admin/login/")

    response = sign_in(client, "admin", "pw", "/admin/login/")

    assert "Too many failed sign-ins" in response.content.decode()
    assert client.get("/admin/").status_code == 302  # still sent to the login


# --- No lockout for attackers: every count is tied to the client that made the failures


def test_failures_from_one_address_do_not_lock_the_user_out_elsewhere(org):
    fail(Client(), "alice", login.FAILURES_PER_PAIR)

    here = sign_in(Client(), "alice", "pw")
    elsewhere = sign_in(Client(), "alice", "pw", REMOTE_ADDR=ANOTHER_ADDRESS)

    assert here.status_code == 429
    assert elsewhere.status_code == 302


def test_failures_count_whatever_the_case_of_the_username(org):
    client = Client()
    fail(client, "Alice", 2)
    fail(client, "ALICE ", login.FAILURES_PER_PAIR - 2)

    assert sign_in(client, "alice", "pw").status_code == 429


def test_a_username_guessed_from_many_addresses_still_lets_its_known_clients_in(org):
    sign_in(Client(), "alice", "pw", REMOTE_ADDR=ANOTHER_ADDRESS)  # alice's usual address
    for n in range(login.FAILURES_PER_USER):  # a botnet: each address far from its own limits
        sign_in(Client(), "alice", "wrong", REMOTE_ADDR=f"198.51.100.{n % 250}")

    from_a_known_client = sign_in(Client(), "alice", "pw", REMOTE_ADDR=ANOTHER_ADDRESS)
    from_a_new_one = sign_in(Client(), "alice", "pw", REMOTE_ADDR="203.0.113.50")

    assert from_a_known_client.status_code == 302
    assert from_a_new_one.status_code == 429
    assert sign_in(Client(), "bob", "pw", REMOTE_ADDR="203.0.113.50").status_code == 302


# --- The client address: X-Forwarded-For only from a trusted proxy


def spoofed(n) -> dict:
    return {"HTTP_X_FORWARDED_FOR": f"203.0.113.{n}"}


def test_x_forwarded_for_is_ignored_when_no_proxy_is_trusted(org):
    for n in range(login.FAILURES_PER_CLIENT):
        sign_in(Client(), f"guess{n}", "wrong", **spoofed(n))

    assert sign_in(Client(), "alice", "pw", **spoofed(99)).status_code == 429


def test_the_anonymous_api_throttle_ignores_x_forwarded_for_too(org):
    statuses = {APIClient().get(TOKEN, **spoofed(n)).status_code for n in range(61)}  # 60/minute

    assert 429 in statuses


def test_behind_a_trusted_proxy_the_right_most_untrusted_address_is_the_client(org, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.1"]
    via_proxies = {"REMOTE_ADDR": "10.1.2.3", "HTTP_X_FORWARDED_FOR": "1.1.1.1, 198.51.100.4, 192.0.2.1"}
    for n in range(login.FAILURES_PER_PAIR):  # the left-most address is the client's to make up
        made_up = {**via_proxies, "HTTP_X_FORWARDED_FOR": f"1.1.1.{n}, 198.51.100.4"}
        sign_in(Client(), "alice", "wrong", **made_up)

    assert sign_in(Client(), "alice", "pw", **via_proxies).status_code == 429
    other = {"REMOTE_ADDR": "10.1.2.3", "HTTP_X_FORWARDED_FOR": "198.51.100.5"}
    assert sign_in(Client(), "alice", "pw", **other).status_code == 302


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(org, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    for n in range(login.FAILURES_PER_PAIR):
        sign_in(Client(), "alice", "wrong", REMOTE_ADDR="198.51.100.4", **spoofed(n))

    assert sign_in(Client(), "alice", "pw", REMOTE_ADDR="198.51.100.4", **spoofed(77)).status_code == 429
