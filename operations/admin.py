from __future__ import annotations

from django.contrib import admin

from nestops.admin import ReadOnlyAdmin
from operations.models import Operation


@admin.register(Operation)
class OperationAdmin(ReadOnlyAdmin):
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
