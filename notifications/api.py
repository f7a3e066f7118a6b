"""``/api/v1/notification-channels/`` and ``/api/v1/notification-deliveries/``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api_fields import MemberTeamField
from accounts.models import Membership, Role
from nestops.addresses import HostKind, host_kind
from nestops.api import ACCEPTED, has_role
from notifications.models import ChannelKind, NotificationChannel, NotificationDelivery
from notifications.services import EVENTS, notify


def validate_target(kind: str, target: str) -> str:
    """Email addresses (comma-separated) or an http(s) URL, cleaned."""
    target = target.strip()
    if kind == ChannelKind.EMAIL:
        addresses = [a.strip() for a in target.split(",") if a.strip()]
        if not addresses:
            raise serializers.ValidationError(_("Give at least one email address."))
        for address in addresses:
            try:
                EmailValidator()(address)
            except DjangoValidationError:
                raise serializers.ValidationError(
                    _("%(address)s is not an email address.") % {"address": address}
                ) from None
        return ", ".join(addresses)
    try:
        URLValidator(schemes=["http", "https"])(target)
    except DjangoValidationError:
        raise serializers.ValidationError(
            _("The webhook must be an http:// or https:// URL.")
        ) from None
    kind = host_kind(urlsplit(target).hostname or "")
    if kind is HostKind.FORBIDDEN or (
        kind is HostKind.PRIVATE and not settings.NESTOPS_WEBHOOK_ALLOW_PRIVATE_URLS
    ):
        raise serializers.ValidationError(
            _(
                "Webhooks to this address are not allowed: metadata and link-local addresses "
                "never are, private ones only with NESTOPS_WEBHOOK_ALLOW_PRIVATE_URLS."
            )
        )
    return target


class ChannelSerializer(serializers.ModelSerializer):
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
        target = data.get("target", getattr(self.instance, "target", ""))
        data["target"] = validate_target(kind, target)
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

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = ChannelSerializer
    lookup_field = "public_id"
    filterset_fields = ["kind", "enabled"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[NotificationChannel]:
        return NotificationChannel.objects.select_related("team").visible_to(self.request.user)

    def perform_destroy(self, instance: NotificationChannel) -> None:
        if not has_role(self.request.user, instance.team, Role.ADMIN):
            raise exceptions.PermissionDenied(_("Only team admins manage notification channels."))
        instance.delete()

    @extend_schema(request=None, responses={202: None})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, public_id: str | None = None) -> Response:
        """Sends a test notification to this channel only."""
        channel = self.get_object()
        if not has_role(request.user, channel.team, Role.ADMIN):
            raise exceptions.PermissionDenied(_("Only team admins manage notification channels."))
        with transaction.atomic():
            notify(
                team=channel.team,
                event="test",
                subject=_("Test notification from nestops"),
                message=_("Channel %(name)s of team %(team)s works.")
                % {"name": channel.name, "team": channel.team.name},
                channel=channel,
            )
        return Response(status=ACCEPTED)


class DeliverySerializer(serializers.ModelSerializer):
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
        user = self.request.user
        deliveries = NotificationDelivery.objects.select_related("channel", "team")
        if user.is_superuser:
            return deliveries
        return deliveries.filter(
            team_id__in=Membership.objects.filter(user=user, role=Role.ADMIN).values_list(
                "team_id", flat=True
            )
        )
