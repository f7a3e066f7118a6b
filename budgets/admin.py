from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from budgets.models import Budget, BudgetAlert
from nestops.admin import ReadOnlyAdmin


class BudgetAlertInline(admin.TabularInline):
    model = BudgetAlert
    extra = 0
    can_delete = False
    fields = ["month", "kind", "threshold", "spent", "amount", "currency", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    list_display = ["team", "amount", "currency", "thresholds", "stop_at_limit", "enabled"]
    list_filter = ["enabled", "stop_at_limit", "currency"]
    search_fields = ["team__name", "team__slug"]
    readonly_fields = ["public_id", "created_at", "updated_at", "updated_by"]
    inlines = [BudgetAlertInline]

    def save_model(self, request: HttpRequest, obj: Budget, form: Any, change: bool) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(BudgetAlert)
class BudgetAlertAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "budget", "month", "kind", "threshold", "spent", "currency"]
    list_filter = ["kind", "month"]
