"""``/api/v1/notification-channels/`` and ``/api/v1/notification-deliveries/``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.fields import MemberTeamField
from accounts.models import Role
from accounts.permissions import TeamRolePermission, has_role
from nestops.api import ACCEPTED, StrictModelSerializer
from nestops.url_credentials import credential_keys, redact_url
from notifications.channels import clean_target, send_test
from notifications.models import ChannelKind, NotificationChannel, NotificationDelivery
from notifications.selectors import channels_for, deliveries_for
from notifications.services import EVENTS


def validate_target(kind: str, target: str) -> str:
    """``channels.clean_target``, its errors as the API's."""
    try:
        return clean_target(kind, target)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None


class ChannelSerializer(StrictModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    team = MemberTeamField()

    class Meta:
        model = NotificationChannel
        fields = [
            "id",
            "team",
            "name",
            "kind",
            "target",
            "webhook_format",
            "events",
            "enabled",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]

    def validate_events(self, events: Any) -> list[str]:
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise serializers.ValidationError(_("A list of event names."))
        unknown = sorted(set(events) - set(EVENTS))
        if unknown:
            raise serializers.ValidationError(
                _("Unknown events: %(events)s. Known: %(known)s.")
                % {"events": ", ".join(unknown), "known": ", ".join(EVENTS)}
            )
        return sorted(set(events))

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        kind = data.get("kind", getattr(self.instance, "kind", None))
        if "target" in data or "kind" in data or self.instance is None:
            target = data.get("target", getattr(self.instance, "target", ""))
            if self.instance is not None and target == self.instance.target:
                target = self.instance.webhook_url()  # the redacted URL sent back unchanged
            data["target"] = validate_target(kind, target)
            # A URL with credentials in its query string is kept encrypted, shown redacted.
            secret = kind == ChannelKind.WEBHOOK and credential_keys(data["target"])
            data["target_secret"] = data["target"] if secret else ""
            data["target"] = redact_url(data["target"]) if secret else data["target"]
        team = data.get("team", getattr(self.instance, "team", None))
        if self.instance is not None and team != self.instance.team:
            raise serializers.ValidationError(
                {"team": [_("A channel cannot move to another team.")]}
            )
        if not has_role(self.context["request"].user, team, Role.ADMIN):
            raise exceptions.PermissionDenied(_("Only team admins manage notification channels."))
        return data


class ChannelViewSet(viewsets.ModelViewSet):
    """A team's notification channels: members read them, team admins manage them."""

    permission_classes = [TeamRolePermission]
    action_role = Role.ADMIN
    serializer_class = ChannelSerializer
    lookup_field = "public_id"
    filterset_fields = ["kind", "enabled"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[NotificationChannel]:
        return channels_for(self.request.user)

    @extend_schema(request=None, responses={202: None})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, public_id: str | None = None) -> Response:
        """Sends a test notification to this channel only."""
        send_test(channel=self.get_object())
        return Response(status=ACCEPTED)


class DeliverySerializer(StrictModelSerializer):
    channel = serializers.CharField(source="channel.public_id")
    team = serializers.CharField(source="team.slug")

    class Meta:
        model = NotificationDelivery
        fields = [
            "channel",
            "team",
            "event",
            "subject",
            "status",
            "attempts",
            "last_error",
            "created_at",
            "sent_at",
            "next_attempt_at",
        ]


class DeliveryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """What was sent, to which channel, and how it went (team admins)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = DeliverySerializer
    filterset_fields = ["status", "event"]

    def get_queryset(self) -> QuerySet[NotificationDelivery]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return NotificationDelivery.objects.none()
        return deliveries_for(self.request.user)
