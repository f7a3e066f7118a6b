"""``/metrics``: Prometheus' text format, for a scraper with the token or from an allowed
address (``NESTOPS_METRICS_TOKEN``, ``NESTOPS_METRICS_ALLOWED_ADDRESSES``)."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from accounts.login_throttle import request_address
from telemetry.collectors import DatabaseCollector


def _allowed(request: HttpRequest) -> bool:
    token = settings.NESTOPS_METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header[len("Bearer ") :].encode(), token.encode())
    address = request_address(request)
    if not address:
        return False
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(
        client in ipaddress.ip_network(block, strict=False)
        for block in settings.NESTOPS_METRICS_ALLOWED_ADDRESSES
    )


def registry() -> CollectorRegistry:
    """The cloud calls every process counted (files in PROMETHEUS_MULTIPROC_DIR) and what the
    database says."""
    found = CollectorRegistry(auto_describe=True)
    MultiProcessCollector(found)
    found.register(DatabaseCollector())
    return found


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse(
            "Give the metrics token (Authorization: Bearer …) or scrape from an allowed address.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
