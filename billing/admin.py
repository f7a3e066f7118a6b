"""Admin pages for quotes, the ledger (read only), budgets and their alerts."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from billing import quotes
from billing.models import PriceQuote, UsageInterval
from nestops.admin import ReadOnlyAdmin


@admin.register(PriceQuote)
class PriceQuoteAdmin(ReadOnlyAdmin):
    list_display = [
        "instance_type",
        "zone",
        "charge_type",
        "period",
        "price_unit",
        "trade_price",
        "currency",
        "fetched_at",
        "stale",
        "error",
    ]
    list_filter = ["region", "charge_type", "price_unit", "currency"]
    search_fields = ["instance_type", "zone", "error"]
    actions = ["refresh"]

    @admin.display(boolean=True, description=_("stale"))
    def stale(self, quote: PriceQuote) -> bool:
        return quote.is_stale()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Needed for the refresh action; every field stays read only.
        return request.user.is_superuser

    @admin.action(description=_("Refresh the selected quotes from the cloud"))
    def refresh(self, request: HttpRequest, queryset: QuerySet[PriceQuote]) -> None:
        failed = 0
        for quote in queryset:
            key = quotes.QuoteKey(
                **{name: getattr(quote, name) for name in quotes.QuoteKey.__dataclass_fields__}
            )
            failed += bool(quotes.refresh(key).error)
        level = messages.WARNING if failed else messages.SUCCESS
        self.message_user(
            request,
            _("Refreshed %(count)d quotes, %(failed)d failed.")
            % {"count": queryset.count(), "failed": failed},
            level,
        )


@admin.register(UsageInterval)
class UsageIntervalAdmin(ReadOnlyAdmin):
    """The ledger: append-only, so nothing here can change it."""

    list_display = [
        "instance",
        "state",
        "started_at",
        "ended_at",
        "hourly_rate",
        "cost",
        "currency",
        "rate_estimated",
    ]
    list_filter = ["state", "basis", "charge_type", "rate_estimated", "currency", "team"]
    search_fields = ["instance__public_id", "instance__name"]
    date_hierarchy = "day"
    list_select_related = ["instance"]
