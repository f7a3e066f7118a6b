"""The embedded broker: kombu's filesystem transport, with folders that come back.

kombu lists and writes the queue folder on every poll and publish; a folder removed while the
processes run (a cleanup of ``var/``, a restore) made ``os.listdir`` raise, which killed the
worker, and every publish of beat failed until someone recreated it. This transport recreates
the folders (0700) and tries once more. A message that was in a removed folder is gone; the
database row is the source of truth and beat's ``dispatch_due`` enqueues the operation again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

from kombu import transport as kombu_transports
from kombu.exceptions import ChannelError
from kombu.transport import filesystem

from nestops.private_files import DIRECTORY_MODE

logger = logging.getLogger(__name__)
Result = TypeVar("Result")


class Channel(filesystem.Channel):
    """A filesystem channel whose folders are recreated when they go missing."""

    def folders(self) -> list[str]:
        names = [self.data_folder_in, self.data_folder_out, self.control_folder]
        if self.store_processed:
            names.append(self.processed_folder)
        return [str(name) for name in names]

    def recreate_folders(self) -> None:
        for folder in self.folders():
            if not os.path.isdir(folder):
                logger.warning("The broker folder %s was missing; it is created again", folder)
                os.makedirs(folder, mode=DIRECTORY_MODE, exist_ok=True)

    def _again_if_missing(self, action: Callable[[], Result]) -> Result:
        try:
            return action()
        except (FileNotFoundError, ChannelError) as error:
            missing = isinstance(error, FileNotFoundError) or isinstance(
                error.__cause__, FileNotFoundError
            )
            if not missing:
                raise
        self.recreate_folders()
        return action()

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        self._again_if_missing(lambda: super(Channel, self)._put(queue, payload, **kwargs))

    def _get(self, queue: str) -> Any:
        return self._again_if_missing(lambda: super(Channel, self)._get(queue))

    def _purge(self, queue: str) -> int:
        return self._again_if_missing(lambda: super(Channel, self)._purge(queue))

    def _size(self, queue: str) -> int:
        return self._again_if_missing(lambda: super(Channel, self)._size(queue))

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str, queue: str) -> None:
        self._again_if_missing(
            lambda: super(Channel, self)._queue_bind(exchange, routing_key, pattern, queue)
        )


class Transport(filesystem.Transport):
    Channel = Channel


def use_for_filesystem_urls() -> None:
    """Makes ``filesystem://`` broker URLs use this transport in this process."""
    kombu_transports.TRANSPORT_ALIASES["filesystem"] = "nestops.broker:Transport"
    kombu_transports._transport_cache.pop("filesystem", None)
