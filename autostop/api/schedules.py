"""``/api/v1/instances/{id}/schedule/``: weekly on-hours of an instance."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from autostop.api.responses import ScheduleResponseSerializer
from autostop.api.views import InstanceScopedView
from autostop.models import Schedule
from autostop.schedules import ScheduleError, next_action, parse_windows, parse_zone, save_schedule
from instances.models import ServiceInstance
from nestops.api import StrictSerializer
from nestops.times import iso_time


class ScheduleSerializer(StrictSerializer):
    time_zone = serializers.CharField(max_length=64, help_text="IANA name, e.g. Asia/Shanghai.")
    windows = serializers.JSONField(
        help_text='[{"days": ["mon", "tue"], "start": "09:00", "end": "20:00"}]; an end at or '
        "before the start closes the next day, 24:00 is midnight."
    )
    enabled = serializers.BooleanField(default=True)

    def validate_time_zone(self, value: str) -> str:
        try:
            parse_zone(value)
        except ScheduleError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate_windows(self, value: Any) -> Any:
        try:
            return parse_windows(value)
        except ScheduleError as exc:
            raise serializers.ValidationError(str(exc)) from None


def schedule_body(instance: ServiceInstance) -> dict[str, Any]:
    schedule = Schedule.objects.filter(instance=instance).first()
    if schedule is None:
        return {"configured": False, "enabled": False, "time_zone": None, "windows": []}
    upcoming = next_action(schedule)
    return {
        "configured": True,
        "enabled": schedule.enabled,
        "time_zone": schedule.time_zone,
        "windows": schedule.windows,
        "next_action": (
            {**upcoming, "at": iso_time(upcoming["at"])} if upcoming is not None else None
        ),
        "pending_action": schedule.pending_action or None,
        "last_operation": (
            schedule.last_operation.public_id if schedule.last_operation_id else None
        ),
        "updated_at": iso_time(schedule.updated_at),
    }


class ScheduleView(InstanceScopedView):
    """Windows open: the host is started; a window closes: it is save-stopped. Boundaries are
    acted on once, so a manual start outside the windows lasts until the next one."""

    @extend_schema(responses={200: ScheduleResponseSerializer})
    def get(self, request: Request, public_id: str) -> Response:
        return Response(schedule_body(self.instance()))

    @extend_schema(request=ScheduleSerializer, responses={200: ScheduleResponseSerializer})
    def put(self, request: Request, public_id: str) -> Response:
        instance = self.instance()
        incoming = ScheduleSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        if instance.is_prepaid and data["enabled"]:
            # Allowed, but pointless: say so rather than refuse.
            note = _("A subscription host is paid for its whole period: stopping it saves nothing.")
        else:
            note = None
        save_schedule(
            instance=instance,
            time_zone=data["time_zone"],
            windows=data["windows"],
            enabled=data["enabled"],
            actor=request.user,
        )
        body = schedule_body(instance)
        if note:
            body["notes"] = [note]
        return Response(body)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, public_id: str) -> Response:
        Schedule.objects.filter(instance=self.instance()).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
