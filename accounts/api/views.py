"""``/api/v1/teams/``, ``/api/v1/tokens/`` and ``/api/v1/audit-events/``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import ApiToken, AuditEvent, Membership, Team
from accounts.selectors import audit_events_for, teams_of, tokens_of
from accounts.services import issue_token, revoke_token
from nestops.api import StrictModelSerializer, client_address


class TeamSerializer(StrictModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = ["slug", "name", "role", "created_at"]

    def get_role(self, team: Team) -> str | None:
        roles = self.context.get("roles", {})
        return roles.get(team.pk)


class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The teams you belong to, with your role in each."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = TeamSerializer
    lookup_field = "slug"

    def get_queryset(self) -> QuerySet[Team]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Team.objects.none()
        return teams_of(self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if self.request.user.is_authenticated:
            context["roles"] = dict(
                Membership.objects.filter(user=self.request.user).values_list("team_id", "role")
            )
        return context


class TokenSerializer(StrictModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at"]

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_("Give the token a name."))
        return value.strip()

    def validate_expires_at(self, value: Any) -> Any:
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError(_("The expiry must be in the future."))
        return value


class NewTokenSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]


class TokenViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your API tokens. The token itself is shown only in the answer to its creation."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = TokenSerializer
    lookup_field = "public_id"

    def get_queryset(self) -> QuerySet[ApiToken]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return ApiToken.objects.none()
        return tokens_of(self.request.user)

    @extend_schema(request=TokenSerializer, responses={201: NewTokenSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = TokenSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        token, plain = issue_token(
            user=request.user,
            name=incoming.validated_data["name"],
            expires_at=incoming.validated_data.get("expires_at"),
            via="api",
            remote_addr=client_address(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        body = {**TokenSerializer(token).data, "token": plain}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Revokes the token (it stays listed, marked revoked)."""
        revoke_token(
            token=self.get_object(),
            actor=request.user,
            via="api",
            remote_addr=client_address(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditEventSerializer(StrictModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = AuditEvent
        fields = ["created_at", "actor", "team", "action", "target", "details", "remote_addr"]


class AuditEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your own events, and every event of the teams you administer."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = AuditEventSerializer
    filterset_fields = ["action", "target"]

    def get_queryset(self) -> QuerySet[AuditEvent]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return AuditEvent.objects.none()
        return audit_events_for(self.request.user)
