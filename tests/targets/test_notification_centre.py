"""Alerts people see: the bell and the notification centre, per-user mute settings, and the
weekly e-mail digest per manager — through a real SMTP server process (aiosmtpd).

Alice's March 2017 revenue target is 3100 (100 a day); with nothing won, on 10 March 1000 is
expected and she is behind (tests/targets/test_alerts.py works the figures out)."""

import datetime as dt
import email

import pytest
from django.conf import settings as django_settings
from django.core import mail

from targets import alerts, digest
from targets.models import AlertSettings, Notification
from tests.security.test_accounts import smtp_server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_march(org, set_target):
    for user, address in [(org.alice.user, "alice@example.com"), (org.east_manager, "east@example.com")]:
        user.email = address
        user.save()
    return set_target(org.east_manager, org.alice, "revenue_won", "2017-03", "3100")


# --- muting


def test_a_muted_kind_of_alert_reaches_nobody_who_muted_it(org, alices_march):
    AlertSettings.objects.create(user=org.alice.user, behind=False)
    assert alerts.check_targets(today=dt.date(2017, 3, 10)) == 1
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["east_manager"]
    [sent] = mail.outbox
    assert sent.to == ["east@example.com"]


def test_muting_e_mail_keeps_the_alert_in_the_app(org, alices_march):
    AlertSettings.objects.create(user=org.east_manager, email=False)
    assert alerts.check_targets(today=dt.date(2017, 3, 10)) == 2
    [sent] = mail.outbox
    assert sent.to == ["alice@example.com"]


# --- the bell and the centre


def test_the_bell_counts_the_unread_on_every_page_and_the_centre_marks_them_read(client, org, alices_march):
    alerts.check_targets(today=dt.date(2017, 3, 10))
    Notification.objects.create(user=org.alice.user, message="Another one")
    client.force_login(org.alice.user)
    for url in ["/scorecard/", "/targets/", "/notifications/"]:
        html = client.get(url).content.decode()
        assert 'aria-label="Notifications: 2 unread"' in html, url
    response = client.get("/notifications/")
    assert [n.message for n, _ in response.context["rows"]] == [
        "Another one",
        "Alice is behind on revenue won for 2017-03: USD 0 of USD 3,100, USD 1,000 expected by now.",
    ]
    behind = Notification.objects.get(user=org.alice.user, target=alices_march)
    # "Open" marks it read and goes to her scorecard for March.
    response = client.post(
        f"/notifications/{behind.pk}/read/", {"next": f"/scorecard/{org.alice.pk}/?period=2017-03"}
    )
    assert (
        response.status_code == 302 and response["Location"] == f"/scorecard/{org.alice.pk}/?period=2017-03"
    )
    assert 'aria-label="Notifications: 1 unread"' in client.get("/targets/").content.decode()
    client.post("/notifications/read/")
    assert 'aria-label="Notifications: 0 unread"' in client.get("/targets/").content.decode()


def test_nobody_marks_anothers_notification_read(client, org, alices_march):
    alerts.check_targets(today=dt.date(2017, 3, 10))
    managers = Notification.objects.get(user=org.east_manager)
    client.force_login(org.alice.user)
    assert client.post(f"/notifications/{managers.pk}/read/").status_code == 404
    managers.refresh_from_db()
    assert managers.read_at is None
    assert managers not in [n for n, _ in client.get("/notifications/").context["rows"]]


def test_the_settings_page_saves_what_a_user_mutes(client, org):
    client.force_login(org.bob.user)
    client.post("/notifications/settings/", {"hit": "on", "email": "on"})
    mine = AlertSettings.objects.get(user=org.bob.user)
    assert (mine.behind, mine.hit, mine.email, mine.weekly_digest) == (False, True, True, False)


# --- the weekly digest


def test_each_manager_gets_a_weekly_digest_through_smtp_once(org, alices_march, settings, smtp_server):  # noqa: F811
    port, messages = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    org.boss.email, org.west_manager.email = "boss@example.com", "west@example.com"
    org.boss.save()
    org.west_manager.save()
    AlertSettings.objects.create(user=org.west_manager, weekly_digest=False)
    # Mon 13 March: the daily check found Alice behind on the 13th (1300 expected, nothing won).
    alerts.check_targets(today=dt.date(2017, 3, 13))
    Notification.objects.update(created_at=dt.datetime(2017, 3, 13, 6, 30, tzinfo=dt.UTC))

    assert digest.send_weekly_digests(today=dt.date(2017, 3, 13)) == 2  # boss and east; west muted it
    assert digest.send_weekly_digests(today=dt.date(2017, 3, 13)) == 0  # a repeat sends nothing

    received = {m["To"]: m for m in messages() if m["Subject"].startswith("salesperf: your week")}
    assert sorted(received) == ["boss@example.com", "east@example.com"]
    east = received["east@example.com"]
    assert east["Subject"] == "salesperf: your week to 2017-03-13, 1 behind or at risk"
    body = email.message_from_bytes(east.as_bytes()).get_payload(decode=True).decode()
    assert "- Alice · Revenue won · 2017-03: Behind — USD 0 of USD 3,100" in body
    assert (
        "Alice is behind on revenue won for 2017-03: USD 0 of USD 3,100, USD 1,300 expected by now." in body
    )
    assert f"{django_settings.SITE_URL}/notifications/settings/" in body
    # The boss manages the region: Alice's target is in his sight, the alert was not his.
    boss = email.message_from_bytes(received["boss@example.com"].as_bytes()).get_payload(decode=True).decode()
    assert "- Alice · Revenue won · 2017-03: Behind" in boss and "This week's alerts\nNone." in boss


def test_the_digest_is_on_celery_beat_on_monday_mornings():
    entry = django_settings.CELERY_BEAT_SCHEDULE["weekly-manager-digest"]
    assert entry["task"] == "targets.send_weekly_digests"
    assert entry["schedule"].day_of_week == {1}
