"""A user's own account: their API token (seen, revoked), their password (changed, or reset
through a link sent by e-mail). Django's views and forms; ours are the templates and one rule:
a new password revokes the API token (whoever knew the old password may hold it), and reset
e-mails are limited per client and per address so that nobody can flood an inbox."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from rest_framework.authtoken.models import Token

from .login import client_address, counted, folded
from .tokens import token_expires, token_revoke

logger = logging.getLogger(__name__)

# Reset e-mails asked for within RESET_WINDOW_SECONDS: from one client address, and for one
# e-mail address from all clients together. Beyond either, nothing is sent.
RESETS_PER_CLIENT = 5
RESETS_PER_EMAIL = 3
RESET_WINDOW_SECONDS = 60 * 60


@login_required
def api_token(request):
    """GET: the user's API token (its first characters, when it was issued, when it expires);
    POST: revoke it."""
    if request.method == "POST":
        if token_revoke(user=request.user):
            messages.success(request, "Your API token is revoked.")
        return redirect("api_token")
    token = Token.objects.filter(user=request.user).first()
    expires = token and token_expires(token)
    context = {"token": token, "expires": expires, "expired": token and expires <= timezone.now()}
    return render(request, "accounts/token.html", {**context, "days": settings.API_TOKEN_DAYS})


class PasswordChangeView(auth_views.PasswordChangeView):
    def form_valid(self, form):
        token_revoke(user=form.user)
        return super().form_valid(form)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, limited: beyond RESETS_PER_CLIENT requests from one address, or RESETS_PER_EMAIL
    for one e-mail address, no mail is sent — and the answer is the same "sent" page, so that it
    tells neither whether the address has an account nor that the limit was met. Every request
    counts, for an address with an account or without, like a sign-in (teams.login)."""

    email_template_name = "registration/password_reset_email.txt"
    extra_email_context = {"timeout_days": settings.PASSWORD_RESET_TIMEOUT // (24 * 60 * 60)}

    def form_valid(self, form):
        client = client_address(self.request)
        by_client = counted(f"reset:ip:{client}", RESET_WINDOW_SECONDS)
        by_email = counted(f"reset:email:{folded(form.cleaned_data['email'])}", RESET_WINDOW_SECONDS)
        if by_client > RESETS_PER_CLIENT or by_email > RESETS_PER_EMAIL:
            logger.warning("Password reset not sent: too many requests (client %s)", client)
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    extra_context = PasswordResetView.extra_email_context


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        token_revoke(user=form.user)
        return super().form_valid(form)
