"""API tokens (DRF's, one per user) that expire API_TOKEN_DAYS after they were issued and that
their owner (the account's token page) or an admin (Django's admin) can revoke. Changing or
resetting a password revokes the token too (teams.accounts)."""

import datetime as dt

from django.conf import settings
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


def token_expires(token: Token) -> dt.datetime:
    return token.created + dt.timedelta(days=settings.API_TOKEN_DAYS)


def token_drop_expired(*, user) -> None:
    """Deletes `user`'s token if it has expired, so that asking for one gives a new one."""
    Token.objects.filter(
        user=user, created__lte=timezone.now() - dt.timedelta(days=settings.API_TOKEN_DAYS)
    ).delete()


def token_revoke(*, user) -> bool:
    """Deletes `user`'s token; False if they had none."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's `Authorization: Token <key>`, refusing a token older than API_TOKEN_DAYS."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expires(token) <= timezone.now():
            raise AuthenticationFailed("The token has expired: ask for a new one at /api/v1/auth/token/.")
        return user, token
