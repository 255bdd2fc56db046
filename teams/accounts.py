"""A user's own account: their API token (seen, revoked), their password (changed, or reset
through a link sent by e-mail). Django's views and forms; ours are the templates and one rule:
a new password revokes the API token (whoever knew the old password may hold it)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from rest_framework.authtoken.models import Token

from .tokens import token_expires, token_revoke


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
    email_template_name = "registration/password_reset_email.txt"
    extra_email_context = {"timeout_days": settings.PASSWORD_RESET_TIMEOUT // (24 * 60 * 60)}


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    extra_context = PasswordResetView.extra_email_context


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        token_revoke(user=form.user)
        return super().form_valid(form)
