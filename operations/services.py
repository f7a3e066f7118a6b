"""Asking for operations: the transition table, conflict detection, idempotency, cancel."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.requester import Requester
from cloudaccount.checks import require_permissions, require_quota
from instances import lifecycle
from instances.models import ServiceInstance, Status
from instances.services import NewInstance, create_instance
from nestops.errors import Refused
from operations import queues
from operations.models import HOST_FILE_KINDS, LIFECYCLE_KINDS, Kind, Operation


class OperationRefused(Refused):
    """An operation cannot be accepted."""


class OperationConflict(OperationRefused):
    def __init__(self, active: Operation) -> None:
        super().__init__(
            "operation_conflict",
            _(
                "%(instance)s already has an active operation: %(kind)s %(operation)s "
                "(%(status)s). Wait for it to finish or cancel it."
            )
            % {
                "instance": active.instance.public_id,
                "kind": active.get_kind_display(),
                "operation": active.public_id,
                "status": active.get_status_display(),
            },
            {"active_operation": active.public_id, "kind": active.kind},
        )
        self.active = active


class IdempotencyKeyReused(OperationRefused):
    http_status = 422

    def __init__(self, existing: Operation) -> None:
        super().__init__(
            "idempotency_key_reused",
            _(
                "This Idempotency-Key was already used for a different request "
                "(operation %(operation)s). Use a new key for a new request."
            )
            % {"operation": existing.public_id},
            {"operation": existing.public_id},
        )


class HostBusy(OperationRefused):
    """The host already runs as many file operations as it may at once."""

    def __init__(self, instance: ServiceInstance, active: list[Operation], limit: int) -> None:
        super().__init__(
            "host_busy",
            _(
                "%(instance)s already runs %(count)d file operations (%(operations)s); at most "
                "%(limit)d may run at once on one host (NESTOPS_HOST_FILE_OPERATIONS_PER_HOST). "
                "Wait for one to finish or cancel one."
            )
            % {
                "instance": instance.public_id,
                "count": len(active),
                "operations": ", ".join(op.public_id for op in active),
                "limit": limit,
            },
            {"active_operations": [op.public_id for op in active], "limit": limit},
        )


class InvalidRequest(OperationRefused):
    """A value the service refuses; ``details`` maps each field to its messages."""

    http_status = 400

    def __init__(self, errors: dict[str, list[str]]) -> None:
        field, messages = next(iter(errors.items()))
        super().__init__("invalid", f"{field}: {messages[0]}", errors)


def action_for(kind: str) -> lifecycle.Action:
    """What the instance must be for ``kind``, and what it is while it runs."""
    return lifecycle.HOST_WORK if kind in HOST_FILE_KINDS else lifecycle.ACTIONS[kind]


# Taking the host away kills whatever runs on it: these ask the other operations to cancel
# first, and their handlers wait for them to end.
CANCELS_OTHER_OPERATIONS = (Kind.DELETE, Kind.STOP, Kind.RESTART)


def request_fingerprint(instance: ServiceInstance, kind: str, params: dict[str, Any]) -> str:
    body = json.dumps([instance.public_id, kind, params], sort_keys=True, default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _deadline(kind: str) -> timezone.datetime:
    minutes = settings.NESTOPS_OPERATION_DEADLINES.get(kind, 60)
    return timezone.now() + timedelta(minutes=float(minutes))


def _enqueue_on_commit(operation: Operation) -> None:
    operation_id, source = operation.pk, operation.source
    transaction.on_commit(lambda: queues.enqueue(operation_id, source))


def _new_operation(
    *,
    instance: ServiceInstance,
    kind: str,
    params: dict[str, Any],
    requester: Requester,
    fingerprint: str = "",
    state: dict[str, Any] | None = None,
) -> Operation:
    operation = Operation.objects.create(
        instance=instance,
        team_id=instance.team_id,
        kind=kind,
        params=params,
        state=state or {},
        actor=requester.user,
        source=requester.source,
        remote_addr=requester.address,
        idempotency_key=requester.idempotency_key,
        request_fingerprint=fingerprint,
        deadline_at=_deadline(kind),
    )
    _enqueue_on_commit(operation)
    return operation


def request_deploy(
    *, spec: NewInstance, requester: Requester, fingerprint: str = ""
) -> tuple[ServiceInstance, Operation]:
    """A new instance and its deploy operation, saved together; the deploy starts on commit.
    ``fingerprint`` identifies the request an idempotency key was first used for.

    A cloud account that may not call what a deploy needs is refused here, with the RAM
    policies to grant, instead of failing halfway (the check is remembered for ten minutes);
    so is a pay-as-you-go host that the account's vCPU quota cannot fit."""
    require_permissions(region=spec.region)
    require_quota(
        region=spec.region, instance_type=spec.instance_type, charge_type=spec.charge_type
    )
    with transaction.atomic():
        instance = create_instance(spec=spec, requester=requester)
        operation = _new_operation(
            instance=instance,
            kind=Kind.DEPLOY,
            params={"from_status": Status.DEPLOYING},
            requester=requester,
            fingerprint=fingerprint,
        )
    return instance, operation


def _check_transition(instance: ServiceInstance, kind: str) -> None:
    rule = action_for(kind)
    if instance.status not in rule.allowed_from:
        allowed = ", ".join(str(Status(s).label) for s in rule.allowed_from)
        raise OperationRefused(
            "invalid_state",
            _("Cannot %(kind)s %(instance)s while it is %(status)s; it must be %(allowed)s.")
            % {
                "kind": str(Kind(kind).label).lower(),
                "instance": instance.public_id,
                "status": instance.get_status_display().lower(),
                "allowed": allowed.lower(),
            },
            {"status": instance.status, "allowed_from": list(rule.allowed_from)},
        )


def _check_host_files(
    instance: ServiceInstance, params: dict[str, Any], active: list[Operation]
) -> None:
    """Two operations never touch the same file; a host runs a bounded number at once."""
    target = params.get("target")
    same = [op for op in active if target and op.params.get("target") == target]
    if same:
        raise OperationConflict(same[0])
    limit = settings.NESTOPS_HOST_FILE_OPERATIONS_PER_HOST
    if len(active) >= limit:
        raise HostBusy(instance, active, limit)


def request_operation(
    *,
    instance: ServiceInstance,
    kind: str,
    params: dict[str, Any] | None = None,
    requester: Requester,
    state: dict[str, Any] | None = None,
) -> tuple[Operation, bool]:
    """Accepts an operation on an instance; returns (operation, created).

    With an ``idempotency_key`` the same key and request return the earlier operation
    (``created`` False); the same key with another request is refused. ``state`` seeds the
    handler's private state (data too large or too internal for ``params``).
    """
    params = dict(params or {})
    idempotency_key = requester.idempotency_key
    fingerprint = request_fingerprint(instance, kind, params) if idempotency_key else ""
    actor_or_none = requester.user
    try:
        with transaction.atomic():
            if idempotency_key:
                earlier = Operation.objects.filter(
                    actor=actor_or_none, idempotency_key=idempotency_key
                ).first()
                if earlier is not None:
                    if earlier.request_fingerprint != fingerprint:
                        raise IdempotencyKeyReused(earlier)
                    return earlier, False
            # Lock the instance: the decision below must not interleave with another request.
            locked = ServiceInstance.objects.select_for_update().get(pk=instance.pk)
            active = list(
                Operation.objects.active()
                .filter(instance=locked)
                .select_related("instance")
                .order_by("created_at")
            )
            taking_host = [op for op in active if op.kind in LIFECYCLE_KINDS]
            if kind == Kind.DELETE:
                blocking = [op for op in taking_host if op.kind == Kind.DELETE]
            else:
                blocking = taking_host
            if blocking:
                raise OperationConflict(blocking[0])
            _check_transition(locked, kind)
            if kind in HOST_FILE_KINDS:
                _check_host_files(
                    locked, params, [op for op in active if op.kind in HOST_FILE_KINDS]
                )
            operation = _new_operation(
                instance=locked,
                kind=kind,
                params={**params, "from_status": locked.status},
                requester=requester,
                fingerprint=fingerprint,
                state=state,
            )
            if kind in CANCELS_OTHER_OPERATIONS:
                for other in active:
                    other.cancel_requested = True
                    other.next_attempt_at = timezone.now()
                    other.save(update_fields=["cancel_requested", "next_attempt_at"])
                    _enqueue_on_commit(other)
            if action_for(kind).during != locked.status:
                lifecycle.change_status(locked, action_for(kind).during)
    except IntegrityError:
        # Two requests raced past the checks; the database constraint kept one of them.
        if idempotency_key:
            earlier = Operation.objects.filter(
                actor=actor_or_none, idempotency_key=idempotency_key
            ).first()
            if earlier is not None and earlier.request_fingerprint == fingerprint:
                return earlier, False
        active_op = (
            Operation.objects.active().filter(instance=instance, kind__in=LIFECYCLE_KINDS).first()
        )
        if active_op is not None:
            raise OperationConflict(active_op) from None
        raise
    instance.refresh_from_db()
    return operation, True


def cancel_operation(*, operation: Operation, actor: Any) -> Operation:
    """Asks an active operation to stop; a pending one is cancelled at once by the runner."""
    with transaction.atomic():
        locked = Operation.objects.select_for_update().get(pk=operation.pk)
        if not locked.is_active:
            raise OperationRefused(
                "operation_finished",
                _("Operation %(operation)s has already finished (%(status)s).")
                % {"operation": locked.public_id, "status": locked.get_status_display()},
                {"status": locked.status},
            )
        if locked.kind == Kind.DELETE:
            raise OperationRefused(
                "not_cancellable",
                _("A delete cannot be cancelled once it has been accepted."),
            )
        locked.cancel_requested = True
        locked.next_attempt_at = timezone.now()
        locked.save(update_fields=["cancel_requested", "next_attempt_at"])
        _enqueue_on_commit(locked)
    operation.refresh_from_db()
    return operation
