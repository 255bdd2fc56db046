"""Accounts: API tokens expire and can be revoked (by their owner, by an admin); a password can be
changed, and reset by e-mail — sent here through a real SMTP server (aiosmtpd, a process of the
test's own on 127.0.0.1). Changing or resetting a password revokes the user's API token."""

import datetime as dt
import mailbox
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.services import wait_for

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
TOKEN = "/api/v1/auth/token/"
NEW_PASSWORD = "a brand new passphrase 42"
MAILBOX = "aiosmtpd.handlers.Mailbox"


def api_as(key: str) -> int:
    return APIClient().get("/api/v1/teams/", HTTP_AUTHORIZATION=f"Token {key}").status_code


def token_of(user, days_old: int = 0) -> Token:
    token = Token.objects.create(user=user)
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - dt.timedelta(days=days_old))
    return token


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def can_sign_in(username, password) -> bool:
    return Client().post("/accounts/login/", {"username": username, "password": password}).status_code == 302


# --- API tokens


def test_a_token_stops_working_once_it_has_expired(org, settings):
    settings.API_TOKEN_DAYS = 30
    fresh, old = token_of(org.alice.user, days_old=29), token_of(org.bob.user, days_old=31)

    assert api_as(fresh.key) == 200
    response = APIClient().get("/api/v1/teams/", HTTP_AUTHORIZATION=f"Token {old.key}")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_asking_again_after_expiry_gives_a_new_token(org):
    old = token_of(org.alice.user, days_old=365)

    response = APIClient().post(TOKEN, {"username": "alice", "password": "pw"})

    new = response.json()["token"]
    assert new != old.key
    assert api_as(new) == 200


def test_asking_again_before_expiry_gives_the_same_token(org):
    current = token_of(org.alice.user, days_old=1)

    assert APIClient().post(TOKEN, {"username": "alice", "password": "pw"}).json()["token"] == current.key


def test_users_see_their_own_token_and_revoke_it(org):
    alices, bobs = token_of(org.alice.user), token_of(org.bob.user)
    client = signed_in(org.alice.user)

    page = client.get("/accounts/token/").content.decode()
    assert alices.key[:8] in page and alices.key not in page  # named, never shown whole
    assert bobs.key[:8] not in page
    assert "Expires" in page

    response = client.post("/accounts/token/")

    assert response.status_code == 302
    assert api_as(alices.key) == 401
    assert api_as(bobs.key) == 200
    assert "no API token" in client.get("/accounts/token/").content.decode()


def test_an_admin_revokes_anyones_token_in_the_admin(org):
    alices = token_of(org.alice.user)
    client = signed_in(org.admin)

    response = client.post(f"/admin/authtoken/tokenproxy/{org.alice.user.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert api_as(alices.key) == 401


# --- Passwords


def test_a_user_changes_their_password_and_their_token_is_revoked(org):
    token = token_of(org.alice.user)
    client = signed_in(org.alice.user)
    assert client.get("/accounts/password/change/").status_code == 200

    response = client.post(
        "/accounts/password/change/",
        {"old_password": "pw", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200  # still signed in: the "done" page
    assert can_sign_in("alice", NEW_PASSWORD) and not can_sign_in("bob", NEW_PASSWORD)
    assert api_as(token.key) == 401


def test_the_password_change_page_is_for_signed_in_users(org):
    response = Client().get("/accounts/password/change/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(tmp_path):
    """A real SMTP server, aiosmtpd, delivering every message to a Maildir."""
    port, maildir = free_port(), tmp_path / "mail"
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", MAILBOX, str(maildir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def listening():
        assert server.poll() is None, server.stderr.read()
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    wait_for(listening, timeout=15, interval=0.1, message="aiosmtpd did not start")
    yield port, lambda: list(mailbox.Maildir(maildir))
    server.terminate()
    server.wait(timeout=10)


def test_a_forgotten_password_is_reset_through_an_email_link(org, settings, smtp_server):
    port, messages = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    org.alice.user.email = "alice@example.com"
    org.alice.user.save()
    token = token_of(org.alice.user)
    client = Client()
    assert client.get("/accounts/password/reset/").status_code == 200

    response = client.post("/accounts/password/reset/", {"email": "ALICE@example.com"})

    assert response.status_code == 302
    [message] = messages()
    assert message["To"] == "alice@example.com"
    body = message.get_payload(decode=True).decode()
    link = re.search(r"https?://testserver(/accounts/reset/\S+/)", body)[1]
    form = client.get(link, follow=True)  # Django swaps the token in the link for one in the session
    assert "New password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302
    assert can_sign_in("alice", NEW_PASSWORD)
    assert api_as(token.key) == 401
    assert client.get(link).context["validlink"] is False  # the link works once


def test_an_unknown_address_gets_the_same_answer_and_no_mail(org, settings, smtp_server):
    port, messages = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port

    response = Client().post("/accounts/password/reset/", {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert messages() == []


def test_email_goes_through_smtp_when_the_environment_names_a_host(smtp_server):
    port, messages = smtp_server
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
    env.update(
        {"DJANGO_SETTINGS_MODULE": "salesperf.settings", "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port)}
    )

    done = subprocess.run(
        [sys.executable, "manage.py", "sendtestemail", "ops@example.com"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    [message] = messages()
    assert message["To"] == "ops@example.com"
