from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from accounts.requester import Requester, Source
from instances.models import ServiceInstance
from operations.models import Kind
from operations.services import OperationRefused, request_operation


def _act(kind: str, label: str, params: dict[str, Any] | None = None) -> Any:
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any) -> None:
        for instance in queryset:
            try:
                operation, _ = request_operation(
                    instance=instance,
                    kind=kind,
                    params=params or {},
                    requester=Requester.of(request, source=Source.ADMIN),
                )
            except OperationRefused as exc:
                modeladmin.message_user(
                    request, f"{instance.public_id}: {exc.message}", messages.ERROR
                )
            else:
                modeladmin.message_user(
                    request, f"{instance.public_id}: {label} queued as {operation.public_id}"
                )

    action.short_description = label  # type: ignore[attr-defined]
    action.__name__ = f"request_{kind}"
    return action


@admin.register(ServiceInstance)
class ServiceInstanceAdmin(admin.ModelAdmin):
    """Instances; every change to a host goes through an operation (source ``admin``)."""

    list_display = [
        "public_id",
        "name",
        "team",
        "status",
        "instance_type",
        "region",
        "zone",
        "charge_type",
        "created_at",
    ]
    list_filter = ["status", "region", "charge_type", "template", "team"]
    search_fields = ["public_id", "name", "cloud_instance_id"]
    date_hierarchy = "created_at"
    exclude = ["webui_password", "host_password"]
    readonly_fields = [
        f.name
        for f in ServiceInstance._meta.get_fields()
        if getattr(f, "concrete", False)
        and f.name not in ("name", "webui_password", "host_password", "id")
    ]
    actions = [
        _act(Kind.START, "Start"),
        _act(Kind.STOP, "Stop (StopCharging)", {"mode": "StopCharging"}),
        _act(Kind.RESTART, "Restart"),
        _act(Kind.DELETE, "Delete"),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Deploying needs stock and price checks: use the dashboard or the API.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
