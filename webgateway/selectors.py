"""Reads of WebUI use through the gateway."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Max

from instances.models import ServiceInstance
from webgateway.models import WebUIUse


def last_webui_uses(*, since: datetime) -> dict[int, datetime]:
    """The newest gateway use per instance (by primary key) since ``since``: one query."""
    rows = (
        WebUIUse.objects.filter(last_used_at__gte=since)
        .order_by()
        .values("instance_id")
        .annotate(last=Max("last_used_at"))
    )
    return {row["instance_id"]: row["last"] for row in rows}


def webui_users(*, instance: ServiceInstance) -> list[WebUIUse]:
    """Who used the instance's WebUI through the gateway, most recent first."""
    return list(WebUIUse.objects.filter(instance=instance).select_related("user"))
