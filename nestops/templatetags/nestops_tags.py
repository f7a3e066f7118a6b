"""Template helpers of the dashboard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.core.cache import cache
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

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


STEP_STATUSES = {
    "running": _("running"),
    "waiting": _("waiting"),
    "retrying": _("retrying"),
    "succeeded": _("done"),
    "failed": _("failed"),
}


@register.filter
def step_status(value: str) -> str:
    return str(STEP_STATUSES.get(value, value))


@register.simple_tag
def step_title(operation: Any, step: dict[str, Any]) -> str:
    from operations.handlers import HANDLERS

    handler = HANDLERS.get(operation.kind)
    title = handler.title(step["name"]) if handler else step["name"]
    if step.get("phase") == "rollback":
        return str(_("Clean up: %(step)s")) % {"step": title}
    return title


@register.simple_tag
def advice(code: str) -> str:
    from operations.advice import advice_for

    return advice_for(code or "")


@register.filter
def iso_time(value: str | None) -> str:
    """An ISO timestamp from a step, shown as a time in the user's time zone."""
    if not value:
        return ""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    return date_format(timezone.localtime(parsed), "H:i:s")


_INSTANCE_TONES = {
    "running": "ok",
    "stopped": "neutral",
    "deleted": "neutral",
    "deploy_failed": "bad",
}
_OPERATION_TONES = {"succeeded": "ok", "cancelled": "neutral", "failed": "bad"}
_STEP_TONES = {"succeeded": "ok", "failed": "bad"}


@register.filter
def instance_tone(status: str) -> str:
    """How an instance status looks: ok, neutral, bad, or busy (in transition)."""
    return _INSTANCE_TONES.get(status, "busy")


@register.filter
def operation_tone(status: str) -> str:
    return _OPERATION_TONES.get(status, "busy")


@register.filter
def step_tone(status: str) -> str:
    return _STEP_TONES.get(status, "busy")


@register.simple_tag
def step_progress(operation: Any) -> dict[str, int]:
    """How far an operation is: steps done out of its handler's steps."""
    from operations.handlers import HANDLERS

    handler = HANDLERS.get(operation.kind)
    total = len(handler.steps) if handler else 0
    done = sum(
        1 for s in operation.steps if s.get("phase") == "main" and s.get("status") == "succeeded"
    )
    return {"done": min(done, total), "total": total}
