"""Password reset e-mails are limited (issue 14, item 7): per client address and per e-mail
address, so that nobody floods an inbox; the page answers the same whether a mail was sent or
not, whether the address has an account or not. The counts share teams.login's cache."""

import pytest
from django.core import mail
from django.test import Client

from teams.accounts import RESETS_PER_CLIENT, RESETS_PER_EMAIL

pytestmark = pytest.mark.django_db

RESET = "/accounts/password/reset/"
SENT = "/accounts/password/reset/sent/"


@pytest.fixture
def alice_email(org):
    org.alice.user.email = "alice@example.com"
    org.alice.user.save()
    return org.alice.user.email


def ask(email, address="198.51.100.1"):
    response = Client(REMOTE_ADDR=address).post(RESET, {"email": email})
    assert (response.status_code, response["Location"]) == (302, SENT)
    return response


def test_one_address_gets_at_most_a_few_reset_emails_from_anywhere(alice_email):
    for n in range(RESETS_PER_EMAIL + 3):
        ask("ALICE@example.com" if n % 2 else alice_email, address=f"198.51.100.{n + 1}")
    assert len(mail.outbox) == RESETS_PER_EMAIL
    assert {m.to[0] for m in mail.outbox} == {alice_email}


def test_one_client_asks_for_at_most_a_few_resets_whatever_the_addresses(org, alice_email):
    for user in (org.bob.user, org.carol.user, org.east_manager, org.west_manager, org.boss, org.admin):
        user.email = f"{user.username}@example.com"
        user.save()
    for user in (org.bob.user, org.carol.user, org.east_manager, org.west_manager, org.boss, org.admin):
        ask(user.email)
    assert len(mail.outbox) == RESETS_PER_CLIENT

    ask(alice_email)  # a fresh address, from the same client: still refused, answered the same
    assert len(mail.outbox) == RESETS_PER_CLIENT
    ask(alice_email, address="203.0.113.9")  # from another client it goes
    assert len(mail.outbox) == RESETS_PER_CLIENT + 1


def test_the_answer_is_the_same_sent_or_not_known_or_not(alice_email):
    answers = [ask(alice_email) for _ in range(RESETS_PER_EMAIL + 1)]
    answers += [ask("nobody@example.com") for _ in range(RESETS_PER_EMAIL + 1)]
    assert len(mail.outbox) == RESETS_PER_EMAIL
    assert {(a.status_code, a["Location"], a.content) for a in answers} == {(302, SENT, b"")}


def test_x_forwarded_for_does_not_buy_more_resets(org, alice_email):
    for n in range(RESETS_PER_CLIENT + 2):
        Client(REMOTE_ADDR="198.51.100.1").post(
            RESET, {"email": f"someone{n}@example.com"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        )
    ask(alice_email)
    assert mail.outbox == []
