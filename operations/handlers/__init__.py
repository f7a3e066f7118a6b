"""The handler of each operation kind.

Lifecycle handlers live here; apps whose nouns have operations of their own (``hostfiles``)
register theirs from their ``AppConfig.ready``, so operations never imports them.
"""

from __future__ import annotations

from operations.handlers import delete, deploy, language, power, resize
from operations.handlers.base import Handler
from operations.models import Kind

HANDLERS: dict[str, Handler] = {
    Kind.DEPLOY: deploy.HANDLER,
    Kind.START: power.START,
    Kind.STOP: power.STOP,
    Kind.RESTART: power.RESTART,
    Kind.RESIZE: resize.HANDLER,
    Kind.DELETE: delete.HANDLER,
    Kind.SET_WEBUI_LANGUAGE: language.HANDLER,
}


def register(kind: str, handler: Handler) -> None:
    """Adds the handler of an operation kind another app carries out."""
    if kind not in Kind.values:
        raise ValueError(f"{kind!r} is not an operation kind")
    existing = HANDLERS.get(kind)
    if existing is not None and existing is not handler:
        raise ValueError(f"operation kind {kind!r} already has a handler")
    HANDLERS[kind] = handler
