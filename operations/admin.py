from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from operations.models import Operation


@admin.register(Operation)
class OperationAdmin(admin.ModelAdmin):
    """Read only: operations are records of what happened."""

    list_display = [
        "public_id",
        "kind",
        "instance",
        "status",
        "source",
        "actor",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "kind", "source"]
    search_fields = ["public_id", "instance__public_id", "instance__name", "error_code"]
    date_hierarchy = "created_at"
    list_select_related = ["instance", "actor"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Operation._meta.get_fields() if getattr(f, "concrete", False)]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.method in ("GET", "HEAD")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
