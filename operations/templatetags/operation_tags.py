"""Template tags for operations: step titles, statuses, tones, progress and advice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from operations.advice import Explanation, advice_for, explain
from operations.handlers import HANDLERS

register = template.Library()

_OPERATION_TONES = {"succeeded": "ok", "cancelled": "neutral", "failed": "bad"}
_STEP_TONES = {"succeeded": "ok", "skipped": "neutral", "failed": "bad"}


STEP_STATUSES = {
    "running": _("running"),
    "waiting": _("waiting"),
    "retrying": _("retrying"),
    "succeeded": _("done"),
    "skipped": _("not needed"),
    "failed": _("failed"),
}


@register.filter
def step_status(value: str) -> str:
    return str(STEP_STATUSES.get(value, value))


@register.simple_tag
def step_title(operation: Any, step: dict[str, Any]) -> str:
    handler = HANDLERS.get(operation.kind)
    title = handler.title(step["name"]) if handler else step["name"]
    if step.get("phase") == "rollback":
        return str(_("Clean up: %(step)s")) % {"step": title}
    return title


@register.simple_tag
def advice(code: str) -> str:
    return advice_for(code or "")


@register.simple_tag
def explanation(operation: Any) -> Explanation:
    return explain(operation)


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


@register.filter
def operation_tone(status: str) -> str:
    return _OPERATION_TONES.get(status, "busy")


@register.filter
def step_tone(status: str) -> str:
    return _STEP_TONES.get(status, "busy")


@register.simple_tag
def step_progress(operation: Any) -> dict[str, int]:
    """How far an operation is: steps done out of its handler's steps."""
    handler = HANDLERS.get(operation.kind)
    total = len(handler.steps) if handler else 0
    done = sum(
        1 for s in operation.steps if s.get("phase") == "main" and s.get("status") == "succeeded"
    )
    return {"done": min(done, total), "total": total}


@register.simple_tag
def steps_to_come(operation: Any) -> list[str]:
    """The titles of an active operation's steps that have not started yet."""
    handler = HANDLERS.get(operation.kind)
    if handler is None or not operation.is_active:
        return []
    if any(s.get("phase") == "rollback" for s in operation.steps):
        return []
    started = {s["name"] for s in operation.steps if s.get("phase") == "main"}
    return [str(step.title) for step in handler.steps if step.name not in started]
