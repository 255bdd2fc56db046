"""The team and rep endpoints, and the token endpoint (sign-in limits: teams.login).

The viewsets build on salesperf.api's ScopedViewSet: each names its queryset, narrowed by the
model's visible_to(user). A rep or team carries its history (memberships, placements), prefetched
so that a list costs the same queries for any number of rows.
"""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema_serializer
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle

from salesperf.api import ScopedViewSet

from . import login, tokens, visibility
from .filtersets import RepFilterSet, TeamFilterSet
from .models import Membership, Rep, Team
from .serializers import RepSerializer, TeamSerializer


class TeamViewSet(ScopedViewSet):
    """Teams you may see: a manager's subtrees, every team for an admin. Admins write."""

    queryset = Team.objects.select_related("manager").prefetch_related("placements")
    serializer_class = TeamSerializer
    filterset_class = TeamFilterSet
    ordering_fields = ["name", "id"]
    ordering = ["name"]


class RepViewSet(ScopedViewSet):
    """Reps you may see: yourself, and every rep of the teams you manage. Admins write."""

    queryset = Rep.objects.select_related("team", "user").prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("team"))
    )
    serializer_class = RepSerializer
    filterset_class = RepFilterSet
    ordering_fields = ["full_name", "id"]
    ordering = ["full_name"]

    def get_serializer_context(self):
        # Which past teams' names the user may read (RepSerializer.memberships).
        team_ids = visibility.visible_team_ids(self.request.user)
        return {**super().get_serializer_context(), "team_ids": team_ids}


@extend_schema_serializer(component_name="AuthToken")
class LimitedAuthTokenSerializer(AuthTokenSerializer):
    """DRF's, counting failures and refusing locked usernames and clients like the login page."""

    def validate(self, attrs):
        request, username = self.context["request"], attrs.get("username", "")
        if seconds := login.locked_for(request, username):
            raise Throttled(wait=seconds, detail=login.locked_message(seconds))
        try:
            attrs = super().validate(attrs)
        except ValidationError:
            login.failed(request, username)
            raise
        login.succeeded(request, username)
        tokens.token_drop_expired(user=attrs["user"])  # so that an expired token is replaced
        return attrs


class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (`Authorization: Token <key>`).

    After repeated failures for a username or from a client, a 429 with Retry-After (teams.login)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES  # DRF's view names its own
    throttle_classes = [AnonRateThrottle]  # DRF's view has none: slow down password guessing
    serializer_class = LimitedAuthTokenSerializer
