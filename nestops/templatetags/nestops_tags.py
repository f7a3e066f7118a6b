"""Template helpers of the dashboard."""

from __future__ import annotations

from typing import Any

from django import template
from django.core.cache import cache

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters replaced (for pagination links)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


@register.simple_tag
def gpu_of(instance: Any) -> str:
    """'1 x NVIDIA T4' for an instance type, from the cached catalog (empty if unknown)."""
    types = cache.get(f"catalog:types:{instance.region}")
    if not types:
        return ""
    spec = types.get(instance.instance_type)
    return f"{spec.gpu_amount} \u00d7 {spec.gpu_spec}" if spec else ""


_INSTANCE_TONES = {
    "running": "ok",
    "stopped": "neutral",
    "deleted": "neutral",
    "deploy_failed": "bad",
}


@register.filter
def instance_tone(status: str) -> str:
    """How an instance status looks: ok, neutral, bad, or busy (in transition)."""
    return _INSTANCE_TONES.get(status, "busy")
