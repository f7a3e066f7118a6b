from __future__ import annotations

from django.contrib import admin

from autostop.models import IdleEvaluation, IdlePolicy, Schedule, Snooze, TeamIdleSettings
from nestops.admin import ReadOnlyAdmin


@admin.register(IdlePolicy)
class IdlePolicyAdmin(admin.ModelAdmin):
    list_display = ["instance", "enabled", "idle_minutes", "gpu_threshold", "stop_mode"]
    list_filter = ["enabled", "stop_mode"]
    search_fields = ["instance__public_id", "instance__name"]
    raw_id_fields = ["instance", "updated_by"]


@admin.register(TeamIdleSettings)
class TeamIdleSettingsAdmin(admin.ModelAdmin):
    list_display = ["team", "max_idle_minutes", "max_snooze_hours", "updated_at"]
    raw_id_fields = ["updated_by"]


@admin.register(Snooze)
class SnoozeAdmin(admin.ModelAdmin):
    list_display = ["instance", "until", "created_by", "created_at", "cancelled_at", "reason"]
    search_fields = ["instance__public_id", "instance__name"]
    raw_id_fields = ["instance", "created_by", "cancelled_by"]


@admin.register(IdleEvaluation)
class IdleEvaluationAdmin(ReadOnlyAdmin):
    """The latest idle evaluation of each host, with every signal (read only)."""

    list_display = ["instance", "verdict", "reason", "last_activity_at", "stop_due_at"]
    list_filter = ["verdict", "reason"]
    search_fields = ["instance__public_id", "instance__name"]
    list_select_related = ["instance"]


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ["instance", "enabled", "time_zone", "pending_action", "applied_until"]
    list_filter = ["enabled", "time_zone"]
    search_fields = ["instance__public_id", "instance__name"]
    raw_id_fields = ["instance", "last_operation", "updated_by"]
    readonly_fields = ["applied_until", "pending_action", "pending_since", "last_operation"]
