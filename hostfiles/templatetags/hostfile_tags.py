"""Template helpers of the Models tab."""

from __future__ import annotations

from django import template

register = template.Library()

_TONES = {"failed": "bad", "queued": "neutral"}


@register.filter
def activity_tone(state: str) -> str:
    return _TONES.get(state, "busy")
