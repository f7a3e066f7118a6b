from __future__ import annotations

from django.contrib import admin

from webgateway.models import GatewaySession, WebUIUse


@admin.register(WebUIUse)
class WebUIUseAdmin(admin.ModelAdmin):
    list_display = ("instance", "user", "last_used_at", "request_count")
    list_select_related = ("instance", "user")
    readonly_fields = ("instance", "user", "first_used_at", "last_used_at", "request_count")


@admin.register(GatewaySession)
class GatewaySessionAdmin(admin.ModelAdmin):
    list_display = ("instance", "user", "created_at", "expires_at", "remote_addr")
    list_select_related = ("instance", "user")
    readonly_fields = ("instance", "user", "created_at", "remote_addr")
    fields = ("instance", "user", "created_at", "expires_at", "remote_addr")
