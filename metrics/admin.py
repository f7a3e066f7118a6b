from __future__ import annotations

from django.contrib import admin

from metrics.models import MetricHourly, MetricSample
from nestops.admin import ReadOnlyAdmin


@admin.register(MetricSample)
class MetricSampleAdmin(ReadOnlyAdmin):
    """CloudMonitor minutes (7 days)."""

    list_display = ["instance", "metric", "at", "average", "maximum", "minimum"]
    list_filter = ["metric"]
    search_fields = ["instance__public_id", "instance__name"]
    list_select_related = ["instance"]
    ordering = ["-timestamp"]
    show_full_result_count = False


@admin.register(MetricHourly)
class MetricHourlyAdmin(ReadOnlyAdmin):
    """Hourly aggregates (90 days)."""

    list_display = ["instance", "metric", "at", "average", "maximum", "minimum", "samples"]
    list_filter = ["metric"]
    search_fields = ["instance__public_id", "instance__name"]
    list_select_related = ["instance"]
    ordering = ["-hour"]
    show_full_result_count = False
