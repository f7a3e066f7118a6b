"""A host that comes up running has its files read, so the Models tab lists what it holds (the
image's bundled checkpoint included) without anyone asking."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction

from accounts.requester import Requester, Source
from hostfiles import services as host_files
from instances.models import ServiceInstance, Status
from operations.services import OperationRefused

logger = logging.getLogger(__name__)


def read_files_when_running(sender: Any, instance: ServiceInstance, at: Any, **kwargs: Any) -> None:
    """Follows ``status_changed``: after the move to running commits, an inventory refresh."""
    if at is None or instance.status != Status.RUNNING:
        return
    if not settings.NESTOPS_READ_FILES_WHEN_RUNNING:
        return
    instance_pk = instance.pk
    transaction.on_commit(lambda: request_read(instance_pk))


def request_read(instance_pk: int) -> None:
    instance = ServiceInstance.objects.filter(pk=instance_pk, status=Status.RUNNING).first()
    if instance is None:
        return
    try:
        host_files.request_inventory_refresh(
            instance=instance, requester=Requester.policy(Source.SYSTEM)
        )
    except OperationRefused as exc:
        # Another refresh runs already, or the host is busy: the files are read anyway.
        logger.info("no inventory read for %s: %s", instance.public_id, exc.message)
