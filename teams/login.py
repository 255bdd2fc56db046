"""Signing in, with a limit on password guessing.

After FAILURES_PER_USER failed sign-ins for one username, or FAILURES_PER_CLIENT from one client
address (whatever the usernames), further attempts are refused for LOCKOUT_SECONDS, the right
password included. A success clears the username's count (not the address's: one good account
must not reset a guesser's count). The counts live in the cache — Redis in production, so every
web process shares them. The login page, the admin's login and the API token endpoint all count
in the same place. The client address is DRF's (REMOTE_ADDR, or X-Forwarded-For as NUM_PROXIES
says), the same as the API's throttles.
"""

import hashlib
import time

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from rest_framework.throttling import BaseThrottle

FAILURES_PER_USER = 5
FAILURES_PER_CLIENT = 20
LOCKOUT_SECONDS = 15 * 60


def _keys(request, username: str) -> list[tuple[str, int]]:
    """(cache key, how many failures it allows) for the username and the client address."""
    user = hashlib.sha256(username.strip().lower().encode()).hexdigest()
    client = BaseThrottle().get_ident(request)
    return [(f"login:fail:user:{user}", FAILURES_PER_USER), (f"login:fail:ip:{client}", FAILURES_PER_CLIENT)]


def locked_for(request, username: str) -> int:
    """Seconds until `username` may try again from this client; 0: now."""
    until = max((cache.get(f"{key}:until", 0) for key, _ in _keys(request, username)), default=0)
    return max(0, int(until - time.time() + 0.999))


def failed(request, username: str) -> None:
    for key, allowed in _keys(request, username):
        cache.add(key, 0, LOCKOUT_SECONDS)  # the count starts with the first failure, then expires
        try:
            count = cache.incr(key)
        except ValueError:  # expired between the two calls
            count = 1
            cache.add(key, count, LOCKOUT_SECONDS)
        if count >= allowed:
            cache.set(f"{key}:until", time.time() + LOCKOUT_SECONDS, LOCKOUT_SECONDS)
            cache.delete(key)


def succeeded(request, username: str) -> None:
    user_key, _ = _keys(request, username)[0]
    cache.delete(user_key)


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
