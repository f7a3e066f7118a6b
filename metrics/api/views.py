"""``GET /api/v1/instances/{id}/metrics/?metric=&since=&until=&step=``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from instances.api.base import OnInstance
from metrics.api.responses import SeriesSerializer
from metrics.models import METRIC_KEYS, Metric
from metrics.selectors import series
from nestops.times import iso_time

STEPS = (60, 300, 900, 3600, 21600, 86400)
MAX_POINTS = 1500
MAX_RANGE = timedelta(days=90)
# Without a step, the smallest that keeps a chart under this many points.
AUTO_POINTS = 360
UNITS = {
    Metric.GPU: "%",
    Metric.GPU_MEMORY: "%",
    Metric.CPU: "%",
    Metric.MEMORY: "%",
    Metric.NETWORK_OUT: "bit/s",
}


def _time(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    parsed = parse_datetime(raw.replace(" ", "+"))
    if parsed is None:
        raise serializers.ValidationError({name: [_("Use ISO 8601, e.g. 2025-01-31T09:00:00Z.")]})
    if timezone.is_naive(parsed):
        raise serializers.ValidationError({name: [_("Give a time zone, e.g. a trailing Z.")]})
    return parsed


def parse_query(request: Request) -> dict[str, Any]:
    """Validated ``metric``, ``since``, ``until`` and ``step``."""
    key = request.query_params.get("metric", "gpu").strip()
    if key not in METRIC_KEYS:
        raise serializers.ValidationError(
            {"metric": [_("Use one of: %(names)s.") % {"names": ", ".join(METRIC_KEYS)}]}
        )
    until = _time(request, "until") or timezone.now()
    since = _time(request, "since") or until - timedelta(hours=1)
    if since >= until:
        raise serializers.ValidationError({"since": [_("since must be before until.")]})
    span = until - since
    if span > MAX_RANGE:
        raise serializers.ValidationError({"since": [_("Ask for at most 90 days at a time.")]})
    raw_step = request.query_params.get("step", "").strip()
    if raw_step:
        if not raw_step.isdigit() or int(raw_step) not in STEPS:
            raise serializers.ValidationError(
                {
                    "step": [
                        _("Use one of: %(steps)s (seconds).")
                        % {"steps": ", ".join(map(str, STEPS))}
                    ]
                }
            )
        step = int(raw_step)
    else:
        step = next((s for s in STEPS if span.total_seconds() / s <= AUTO_POINTS), STEPS[-1])
    if span.total_seconds() / step > MAX_POINTS:
        raise serializers.ValidationError(
            {
                "step": [
                    _("That is more than %(max)s points: ask for a larger step.")
                    % {"max": MAX_POINTS}
                ]
            }
        )
    kept = timezone.now() - timedelta(days=settings.NESTOPS_METRICS_RETENTION_DAYS)
    if since < kept and step < 3600:
        raise serializers.ValidationError(
            {
                "step": [
                    _(
                        "1-minute points are kept %(days)s days; older data is hourly: use a "
                        "step of 3600 or more."
                    )
                    % {"days": settings.NESTOPS_METRICS_RETENTION_DAYS}
                ]
            }
        )
    return {"key": key, "metric": METRIC_KEYS[key], "since": since, "until": until, "step": step}


class MetricsView(OnInstance, APIView):
    """A host's CloudMonitor series, averaged over ``step`` seconds (maximum and minimum kept)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("metric", str, enum=list(METRIC_KEYS)),
            OpenApiParameter("since", str, description="ISO 8601; default: until - 1 h"),
            OpenApiParameter("until", str, description="ISO 8601; default: now"),
            OpenApiParameter("step", int, enum=list(STEPS), description="seconds; default: auto"),
        ],
        responses={200: SeriesSerializer},
    )
    def get(self, request: Request, public_id: str) -> Response:
        instance = self.instance()
        query = parse_query(request)
        points, source = series(
            instance,
            metric=query["metric"],
            since=query["since"],
            until=query["until"],
            step=query["step"],
        )
        metric = Metric(query["metric"])
        return Response(
            {
                "instance": instance.public_id,
                "metric": query["key"],
                "label": str(metric.label),
                "unit": UNITS[metric],
                "since": iso_time(query["since"]),
                "until": iso_time(query["until"]),
                "step": query["step"],
                "source": source,
                "points": [
                    {
                        "at": iso_time(p.at),
                        "average": p.average,
                        "maximum": p.maximum,
                        "minimum": p.minimum,
                    }
                    for p in points
                ],
            }
        )
