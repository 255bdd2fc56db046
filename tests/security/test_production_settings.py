"""Production settings (salesperf.settings_production): HTTPS only, secure cookies, the security
headers on every response, and `manage.py check --deploy` clean. Each runs in a subprocess with
the environment a deployment gives (SECRET_KEY, ALLOWED_HOSTS), never the test settings."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
HOST = "sales.example.com"
YEAR = 60 * 60 * 24 * 365


def production_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_"))}
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DEBUG"):
        env.pop(name, None)  # the probe's own throwaway database, local cache, eager tasks
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "salesperf.settings_production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": HOST,
        "DATABASE_URL": "sqlite://:memory:",
        **extra,
    }


def run(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env or production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def production():
    done = run("-m", "tests.security.production_probe")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_check_deploy_is_clean():
    done = run("manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout + done.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["SECRET_KEY"]
    done = run("manage.py", "check", env=env)

    assert done.returncode != 0
    assert "SECRET_KEY" in done.stderr


def test_the_settings_are_the_secure_ones(production):
    s = production["settings"]

    assert s["DEBUG"] is False
    assert s["SESSION_COOKIE_SECURE"] and s["SESSION_COOKIE_HTTPONLY"] and s["CSRF_COOKIE_SECURE"]
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert s["SECURE_HSTS_SECONDS"] >= YEAR
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and s["SECURE_HSTS_PRELOAD"]
    assert s["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert s["SECURE_REFERRER_POLICY"] == "same-origin"
    assert s["X_FRAME_OPTIONS"] == "DENY"


def test_an_https_response_carries_the_security_headers(production):
    https = production["https"]

    assert https["status"] == 200
    assert https["headers"]["Strict-Transport-Security"] == f"max-age={YEAR}; includeSubDomains; preload"
    assert https["headers"]["X-Frame-Options"] == "DENY"
    assert https["headers"]["X-Content-Type-Options"] == "nosniff"
    assert https["headers"]["Referrer-Policy"] == "same-origin"
    assert https["headers"]["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "script-src 'self';" in https["headers"]["Content-Security-Policy"]


def test_plain_http_is_sent_to_https_and_a_tls_proxy_is_believed(production):
    assert production["http"]["status"] == 301
    assert production["http"]["headers"]["Location"] == f"https://{HOST}/accounts/login/"
    assert production["http"]["headers"]["Strict-Transport-Security"] is None  # only ever over HTTPS
    assert production["proxied"]["status"] == 200


def test_a_load_balancers_health_check_gets_its_200_over_plain_http(production):
    assert production["healthz"]["status"] == 200
    assert production["healthz"]["headers"]["Location"] is None


def test_cookies_are_https_only_and_the_session_hidden_from_scripts(production):
    csrf = production["https"]["cookies"]["csrftoken"]
    login = production["login"]

    assert login["status"] == 302
    session = login["cookies"]["sessionid"]
    assert session == {"secure": True, "httponly": True, "samesite": "Lax"}
    assert csrf["secure"] is True
    assert login["cookies"]["csrftoken"]["secure"] is True  # rotated at login, still HTTPS only
