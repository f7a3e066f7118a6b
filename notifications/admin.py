from __future__ import annotations

from django.contrib import admin

from nestops.admin import ReadOnlyAdmin
from notifications.models import NotificationChannel, NotificationDelivery


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "kind", "webhook_format", "enabled", "created_at"]
    list_filter = ["kind", "enabled", "team"]
    search_fields = ["name", "target"]


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: read only."""

    list_display = ["created_at", "event", "channel", "status", "attempts", "sent_at"]
    list_filter = ["status", "event", "team"]
    search_fields = ["subject", "last_error"]
    date_hierarchy = "created_at"
