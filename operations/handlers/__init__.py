"""The handler of each operation kind."""

from __future__ import annotations

from operations.handlers import delete, deploy, extensions, model_files, power, resize
from operations.handlers.base import Handler
from operations.models import Kind

HANDLERS: dict[str, Handler] = {
    Kind.DEPLOY: deploy.HANDLER,
    Kind.START: power.START,
    Kind.STOP: power.STOP,
    Kind.RESTART: power.RESTART,
    Kind.RESIZE: resize.HANDLER,
    Kind.DELETE: delete.HANDLER,
    Kind.DOWNLOAD_MODEL: model_files.DOWNLOAD,
    Kind.DELETE_MODEL: model_files.DELETE,
    Kind.SET_PREVIEW: model_files.SET_PREVIEW,
    Kind.INSTALL_EXTENSION: extensions.INSTALL,
    Kind.UPDATE_EXTENSION: extensions.UPDATE,
    Kind.REMOVE_EXTENSION: extensions.REMOVE,
    Kind.REFRESH_INVENTORY: model_files.REFRESH_INVENTORY,
}
