"""The handler of each operation kind."""

from __future__ import annotations

from operations.handlers import delete, deploy, power, resize
from operations.handlers.base import Handler
from operations.models import Kind

HANDLERS: dict[str, Handler] = {
    Kind.DEPLOY: deploy.HANDLER,
    Kind.START: power.START,
    Kind.STOP: power.STOP,
    Kind.RESTART: power.RESTART,
    Kind.RESIZE: resize.HANDLER,
    Kind.DELETE: delete.HANDLER,
}
