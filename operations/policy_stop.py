"""A policy stops a host: the one path auto-stop, schedules and budgets take.

A policy decides and *requests*; the operation does the work. What a policy may not do is
treat a refusal as an error: between the moment it read the host and its request, someone may
have started an operation on it or changed it. The refusal comes back to the policy, which
records it in its own words (waiting, skipped, refused), and is logged once here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from accounts.requester import Requester
from instances.models import ServiceInstance, StopMode
from operations.models import Kind, Operation
from operations.services import OperationRefused, request_operation

logger = logging.getLogger("nestops.operations")


@dataclass(frozen=True)
class PolicyStop:
    """What came of a policy's stop: the accepted operation, or the refusal."""

    operation: Operation | None = None
    refusal: OperationRefused | None = None

    @property
    def accepted(self) -> bool:
        return self.operation is not None


def request_policy_stop(
    *,
    instance: ServiceInstance,
    source: str,
    mode: str = StopMode.STOP_CHARGING,
    params: dict[str, Any] | None = None,
    then: Callable[[Operation], None] | None = None,
) -> PolicyStop:
    """Asks for a stop of ``instance`` on behalf of the policy ``source`` (``idle_policy``,
    ``schedule``, ``budget``), with the stop ``mode`` and the policy's ``params`` (its reason).

    ``then(operation)`` runs once the stop is accepted, in one transaction: the policy records
    the operation and tells the team together, or neither happens.
    """
    try:
        operation, _created = request_operation(
            instance=instance,
            kind=Kind.STOP,
            params={"mode": mode, **(params or {})},
            requester=Requester.policy(source),
        )
    except OperationRefused as exc:
        logger.info("%s stop of %s refused: %s", source, instance.public_id, exc.code)
        return PolicyStop(refusal=exc)
    if then is not None:
        with transaction.atomic():
            then(operation)
    return PolicyStop(operation=operation)
