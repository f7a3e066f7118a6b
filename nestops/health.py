"""``/healthz``: can this process reach its database, its broker and the cloud?"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from cloud import CloudError, ecs
from nestops.celery import app as celery_app

_cloud_cache: dict[str, Any] = {}
CLOUD_CHECK_TTL = 30.0


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "vendor": connection.vendor, "error": type(exc).__name__}
    return {"ok": True, "vendor": connection.vendor}


def _broker() -> dict[str, Any]:
    transport = settings.CELERY_BROKER_URL.split("://", 1)[0]
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return {"ok": False, "transport": transport, "error": type(exc).__name__}
    return {"ok": True, "transport": transport}


def _cloud() -> dict[str, Any]:
    endpoint = settings.NESTOPS_SIM_ENDPOINT if settings.NESTOPS_CLOUD == "sim" else "aliyuncs.com"
    cached = _cloud_cache.get(endpoint)
    if cached and time.monotonic() - cached["checked"] < CLOUD_CHECK_TTL:
        return cached["result"]
    result: dict[str, Any] = {"mode": settings.NESTOPS_CLOUD, "endpoint": endpoint}
    try:
        result["regions"] = len(ecs.describe_regions())
        result["ok"] = True
    except CloudError as exc:
        result.update(ok=False, error=exc.code)
    _cloud_cache[endpoint] = {"checked": time.monotonic(), "result": result}
    return result


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers (the broker and cloud are reported, not required)."""
    report = {"database": _database(), "broker": _broker(), "cloud": _cloud()}
    healthy = all(part["ok"] for part in report.values())
    report["status"] = "ok" if healthy else "degraded"
    return JsonResponse(report, status=200 if report["database"]["ok"] else 503)
