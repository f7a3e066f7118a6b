"""The operations that change files on a host, registered with the runner at start-up."""

from __future__ import annotations

from hostfiles.handlers import extensions, model_files
from operations.handlers.base import Handler
from operations.models import Kind

HANDLERS: dict[str, Handler] = {
    Kind.DOWNLOAD_MODEL: model_files.DOWNLOAD,
    Kind.DELETE_MODEL: model_files.DELETE,
    Kind.SET_PREVIEW: model_files.SET_PREVIEW,
    Kind.INSTALL_EXTENSION: extensions.INSTALL,
    Kind.UPDATE_EXTENSION: extensions.UPDATE,
    Kind.REMOVE_EXTENSION: extensions.REMOVE,
    Kind.REFRESH_INVENTORY: model_files.REFRESH_INVENTORY,
}
