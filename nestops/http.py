"""Small facts about a dashboard request."""

from __future__ import annotations

from django.http import HttpRequest


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx asked for the page (it swaps in a fragment, not the whole page)."""
    return request.headers.get("HX-Request") == "true"
