"""Asking for operations: the transition table, conflict detection, idempotency, cancel."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from instances.models import ServiceInstance, Status
from instances.services import change_status
from operations.models import LIFECYCLE_KINDS, Kind, Operation


class OperationRefused(Exception):
    """An operation cannot be accepted; ``code`` and ``details`` reach the API as they are."""

    http_status = 409

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


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


@dataclass(frozen=True)
class Transition:
    allowed_from: tuple[str, ...]
    during: str


TRANSITIONS: dict[str, Transition] = {
    Kind.DEPLOY: Transition((Status.DEPLOY_FAILED,), Status.DEPLOYING),
    Kind.START: Transition((Status.STOPPED,), Status.STARTING),
    Kind.STOP: Transition((Status.RUNNING,), Status.STOPPING),
    Kind.RESTART: Transition((Status.RUNNING,), Status.RESTARTING),
    Kind.RESIZE: Transition((Status.STOPPED,), Status.RESIZING),
    Kind.DELETE: Transition(
        tuple(s for s in Status.values if s not in (Status.DELETED, Status.DELETING)),
        Status.DELETING,
    ),
}


def request_fingerprint(instance: ServiceInstance, kind: str, params: dict[str, Any]) -> str:
    body = json.dumps([instance.public_id, kind, params], sort_keys=True, default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _deadline(kind: str) -> timezone.datetime:
    minutes = settings.NESTOPS_OPERATION_DEADLINES.get(kind, 60)
    return timezone.now() + timedelta(minutes=float(minutes))


def _enqueue_on_commit(operation: Operation) -> None:
    from operations.tasks import advance

    transaction.on_commit(lambda: advance.delay(operation.pk))


def _new_operation(
    *,
    instance: ServiceInstance,
    kind: str,
    params: dict[str, Any],
    actor: Any,
    source: str,
    remote_addr: str | None,
    idempotency_key: str = "",
    fingerprint: str = "",
) -> Operation:
    operation = Operation.objects.create(
        instance=instance,
        team_id=instance.team_id,
        kind=kind,
        params=params,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        source=source,
        remote_addr=remote_addr,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
        deadline_at=_deadline(kind),
    )
    _enqueue_on_commit(operation)
    return operation


def create_deploy_operation(
    *,
    instance: ServiceInstance,
    actor: Any,
    source: str,
    remote_addr: str | None,
    idempotency_key: str = "",
    fingerprint: str = "",
) -> Operation:
    """The first deploy of a new instance (called by ``instances.services.create_instance``)."""
    return _new_operation(
        instance=instance,
        kind=Kind.DEPLOY,
        params={"from_status": Status.DEPLOYING},
        actor=actor,
        source=source,
        remote_addr=remote_addr,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
    )


def _check_transition(instance: ServiceInstance, kind: str) -> None:
    rule = TRANSITIONS[kind]
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


def request_operation(
    *,
    instance: ServiceInstance,
    kind: str,
    params: dict[str, Any] | None = None,
    actor: Any,
    source: str,
    remote_addr: str | None = None,
    idempotency_key: str = "",
) -> tuple[Operation, bool]:
    """Accepts an operation on an instance; returns (operation, created).

    With an ``idempotency_key`` the same key and request return the earlier operation
    (``created`` False); the same key with another request is refused.
    """
    params = dict(params or {})
    fingerprint = request_fingerprint(instance, kind, params) if idempotency_key else ""
    actor_or_none = actor if getattr(actor, "is_authenticated", False) else None
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
                .filter(instance=locked, kind__in=LIFECYCLE_KINDS)
                .select_related("instance")
            )
            if kind == Kind.DELETE:
                blocking = [op for op in active if op.kind == Kind.DELETE]
            else:
                blocking = active
            if blocking:
                raise OperationConflict(blocking[0])
            _check_transition(locked, kind)
            operation = _new_operation(
                instance=locked,
                kind=kind,
                params={**params, "from_status": locked.status},
                actor=actor,
                source=source,
                remote_addr=remote_addr,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
            )
            if kind == Kind.DELETE:
                # Delete wins: everything else on the host is asked to stop first.
                for other in (
                    Operation.objects.active().filter(instance=locked).exclude(pk=operation.pk)
                ):
                    other.cancel_requested = True
                    other.next_attempt_at = timezone.now()
                    other.save(update_fields=["cancel_requested", "next_attempt_at"])
                    _enqueue_on_commit(other)
            change_status(locked, TRANSITIONS[kind].during)
    except IntegrityError:
        # Two requests raced past the checks; the database constraint kept one of them.
        if idempotency_key:
            earlier = Operation.objects.filter(
                actor=actor_or_none, idempotency_key=idempotency_key
            ).first()
            if earlier is not None and earlier.request_fingerprint == fingerprint:
                return earlier, False
        active_op = Operation.objects.active().filter(instance=instance).first()
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
