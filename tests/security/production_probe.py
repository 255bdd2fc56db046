"""Run by test_production_settings in a subprocess with DJANGO_SETTINGS_MODULE =
salesperf.settings_production: prints, as JSON, the security settings in force and what the app
answers under them — over HTTPS, over plain HTTP, and behind a TLS proxy — with the cookies a
login sets. Its database is a throwaway in-memory SQLite, migrated here.
"""

import json

import django

SETTINGS = [
    "DEBUG",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "X_FRAME_OPTIONS",
]
HEADERS = [
    "Strict-Transport-Security",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Location",
    "Content-Security-Policy",
]


def answer(response) -> dict:
    return {
        "status": response.status_code,
        "headers": {h: response.get(h) for h in HEADERS},
        "cookies": {
            name: {"secure": bool(c["secure"]), "httponly": bool(c["httponly"]), "samesite": c["samesite"]}
            for name, c in response.cookies.items()
        },
    }


def main():
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from teams.models import User

    call_command("migrate", verbosity=0)
    User.objects.create_user("probe", password="a long probe password")
    host = settings.ALLOWED_HOSTS[0]
    client = Client(HTTP_HOST=host)
    out = {
        "settings": {name: getattr(settings, name) for name in SETTINGS},
        "https": answer(client.get("/accounts/login/", secure=True)),
        "http": answer(client.get("/accounts/login/")),
        "proxied": answer(client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")),
        "healthz": answer(client.get("/healthz")),
        "login": answer(
            client.post(
                "/accounts/login/", {"username": "probe", "password": "a long probe password"}, secure=True
            )
        ),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
