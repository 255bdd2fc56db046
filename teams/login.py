"""Signing in, with a limit on password guessing that an attacker cannot turn into a lockout.

Every count is kept for a client address, so failures lock out only where they came from:

- FAILURES_PER_PAIR failed sign-ins for one username from one address lock that username there;
- FAILURES_PER_CLIENT from one address, whatever the usernames, lock that address;
- FAILURES_PER_USER for one username from all addresses together (guessing spread over many
  machines) lock that username for every address it has not signed in from before (a *known
  client*, remembered for KNOWN_CLIENT_SECONDS): its owner, at their usual address, still gets in.

A lock lasts LOCKOUT_SECONDS and refuses before the password is checked, the right one included,
so a refusal says nothing about the password. A success clears the pair's count, not the address's
or the username's (one good account must not reset a guesser's). Usernames are counted
case-insensitively. The counts live in the cache — Redis in production, so every web process
shares them. The login page, the admin's login and the API token endpoint all count in the same
place. The client address is REMOTE_ADDR as salesperf.proxies sets it (X-Forwarded-For only from
TRUSTED_PROXIES), the same as the API's throttles. docs/reliability.md argues the choice.
"""

import hashlib
import time
import unicodedata

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError

FAILURES_PER_PAIR = 5
FAILURES_PER_CLIENT = 20
FAILURES_PER_USER = 50
LOCKOUT_SECONDS = 15 * 60
KNOWN_CLIENT_SECONDS = 90 * 24 * 60 * 60


def folded(name: str) -> str:
    """The one form of a username (or an e-mail address) every key uses: "Alice", "ALICE " and
    "alice" count together."""
    return hashlib.sha256(unicodedata.normalize("NFKC", name).strip().casefold().encode()).hexdigest()


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def counted(key: str, seconds: int) -> int:
    """One more in the count at `key`, which starts with its first and expires `seconds` later;
    the count now. Atomic where the cache is (Redis' INCR)."""
    cache.add(key, 0, seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.add(key, 1, seconds)
        return 1


def _known_key(request, username: str) -> str:
    return f"login:known:{folded(username)}:{client_address(request)}"


def _counts(request, username: str) -> list[tuple[str, int]]:
    """(cache key, how many failures it allows) that this attempt counts in and may be locked by."""
    user, client = folded(username), client_address(request)
    return [
        (f"login:fail:pair:{user}:{client}", FAILURES_PER_PAIR),
        (f"login:fail:ip:{client}", FAILURES_PER_CLIENT),
        (f"login:fail:user:{user}", FAILURES_PER_USER),  # the last: known clients pass its lock
    ]


def locked_for(request, username: str) -> int:
    """Seconds until `username` may try again from this client; 0: now."""
    keys = [key for key, _ in _counts(request, username)]
    if cache.get(_known_key(request, username)):
        keys = keys[:-1]  # a username locked from everywhere still lets in where it signed in before
    until = max((cache.get(f"{key}:until", 0) for key in keys), default=0)
    return max(0, int(until - time.time() + 0.999))


def failed(request, username: str) -> None:
    for key, allowed in _counts(request, username):
        if counted(key, LOCKOUT_SECONDS) >= allowed:
            cache.set(f"{key}:until", time.time() + LOCKOUT_SECONDS, LOCKOUT_SECONDS)
            cache.delete(key)


def succeeded(request, username: str) -> None:
    pair_key, _ = _counts(request, username)[0]
    cache.delete(pair_key)
    cache.set(_known_key(request, username), True, KNOWN_CLIENT_SECONDS)


def locked_message(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes > 1 else ''}."


class LimitedLogin:
    """For an AuthenticationForm: refuses a locked username or client before checking the password,
    and counts each failure."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if seconds := locked_for(self.request, username):
            self.locked_seconds = seconds
            raise ValidationError(locked_message(seconds), code="locked")
        try:
            cleaned = super().clean()
        except ValidationError:
            failed(self.request, username)
            raise
        succeeded(self.request, username)
        return cleaned


class LoginForm(LimitedLogin, AuthenticationForm):
    locked_seconds = 0


class AdminLoginForm(LimitedLogin, AdminAuthenticationForm):
    """The admin's login (salesperf/urls.py sets it): the same counts, the same limit."""


class LoginView(auth_views.LoginView):
    """The login page; a locked attempt is a 429 with Retry-After, the page telling why."""

    authentication_form = LoginForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.locked_seconds:
            response.status_code = 429
            response["Retry-After"] = str(form.locked_seconds)
        return response
