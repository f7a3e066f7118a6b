from __future__ import annotations

from typing import Any

from django.contrib import admin

from webgateway.models import GatewaySession, HostCertificate, WebUIUse
from webgateway.services import record_host_certificate


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


@admin.register(HostCertificate)
class HostCertificateAdmin(admin.ModelAdmin):
    list_display = ("instance", "sha256", "recorded_at")
    list_select_related = ("instance",)
    readonly_fields = ("sha256", "recorded_at")

    def save_model(self, request: Any, obj: HostCertificate, form: Any, change: bool) -> None:
        record_host_certificate(instance=obj.instance, pem=obj.pem)
