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


@register.filter
def seconds(value: int | None) -> str:
    """A duration in seconds as people say it: 45 s, 3 min 20 s, 2 h 5 min."""
    from django.utils.translation import gettext as _

    if value is None:
        return ""
    value = max(0, int(value))
    if value < 60:
        return _("%(s)d s") % {"s": value}
    if value < 3600:
        return _("%(m)d min %(s)d s") % {"m": value // 60, "s": value % 60}
    return _("%(h)d h %(m)d min") % {"h": value // 3600, "m": value % 3600 // 60}


@register.filter
def when(value: Any) -> str:
    """The one way the dashboard writes a moment: in the user's time zone and language, with
    the weekday ("Fri 4 Dec 2026, 17:23 CST"; "2026年12月4日 星期五 17:23 CST")."""
    from datetime import datetime

    from django.utils import timezone
    from django.utils.formats import date_format
    from django.utils.translation import gettext as _

    if not isinstance(value, datetime):
        return "" if value is None else str(value)
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    # Translators: a PHP-style date format (Django's "date" filter): D weekday, j day, M month.
    return date_format(local, _("D j M Y, H:i T"))
