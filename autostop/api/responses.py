"""What the auto-stop endpoints answer, described for the OpenAPI schema."""

from __future__ import annotations

from rest_framework import serializers

from nestops.api import StrictSerializer


class IdleStatusSerializer(StrictSerializer):
    state = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    text = serializers.CharField()
    idle_minutes = serializers.IntegerField(allow_null=True)
    stops_in_minutes = serializers.IntegerField(allow_null=True)
    last_activity_at = serializers.DateTimeField(allow_null=True)
    stop_due_at = serializers.DateTimeField(allow_null=True)
    missing_since = serializers.DateTimeField(allow_null=True)
    evaluated_at = serializers.DateTimeField(allow_null=True)


class PolicyValuesSerializer(StrictSerializer):
    enabled = serializers.BooleanField()
    idle_minutes = serializers.IntegerField()
    gpu_threshold = serializers.FloatField()
    stop_mode = serializers.CharField()
    warning_minutes = serializers.IntegerField()
    delete_after_days = serializers.IntegerField(allow_null=True)
    max_running_hours = serializers.IntegerField(allow_null=True)


class EffectivePolicySerializer(PolicyValuesSerializer):
    enforced_max_idle_minutes = serializers.IntegerField(allow_null=True)
    is_default = serializers.BooleanField()


class SnoozeBodySerializer(StrictSerializer):
    until = serializers.DateTimeField()
    reason = serializers.CharField(allow_blank=True)
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


class BoundsSerializer(StrictSerializer):
    idle_minutes = serializers.ListField(child=serializers.IntegerField(), min_length=2)
    snooze_hours = serializers.FloatField()


class IdlePolicyResponseSerializer(PolicyValuesSerializer):
    is_default = serializers.BooleanField()
    effective = EffectivePolicySerializer()
    team_max_idle_minutes = serializers.IntegerField(allow_null=True)
    bounds = BoundsSerializer()
    notes = serializers.ListField(child=serializers.CharField())
    status = IdleStatusSerializer(allow_null=True)
    snooze = SnoozeBodySerializer(allow_null=True)


class SnoozeResponseSerializer(StrictSerializer):
    snooze = SnoozeBodySerializer(allow_null=True)


class TeamIdleSettingsResponseSerializer(StrictSerializer):
    team = serializers.CharField()
    max_idle_minutes = serializers.IntegerField(allow_null=True)
    max_snooze_hours = serializers.IntegerField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class WindowSerializer(StrictSerializer):
    days = serializers.ListField(child=serializers.CharField())
    start = serializers.CharField()
    end = serializers.CharField()


class NextActionSerializer(StrictSerializer):
    action = serializers.CharField()
    at = serializers.DateTimeField()
    local = serializers.CharField(help_text="The moment in the schedule's time zone.")


class ScheduleResponseSerializer(StrictSerializer):
    configured = serializers.BooleanField()
    enabled = serializers.BooleanField()
    time_zone = serializers.CharField(allow_null=True)
    windows = WindowSerializer(many=True)
    next_action = NextActionSerializer(allow_null=True, required=False)
    pending_action = serializers.CharField(allow_null=True, required=False)
    last_operation = serializers.CharField(allow_null=True, required=False)
    updated_at = serializers.DateTimeField(required=False)
