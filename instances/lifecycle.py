"""An instance's lifecycle: which status may follow which, what each action needs, and the one
function that changes a status.

Other apps follow status changes through ``status_changed`` (the billing ledger opens and
closes its intervals there) instead of being called from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.dispatch import Signal

from instances.models import ServiceInstance, Status

# Sent inside the transaction that changed the status, with the instance row locked:
# ``instance`` and ``at`` (the moment of the change, or None when the status stayed the same
# but what it costs may have changed, e.g. a stop mode or an instance type).
status_changed = Signal()

_STOPPED_OR_RUNNING = {Status.RUNNING, Status.STOPPED}

# status -> the statuses it may move to. Reconcile corrects running <-> stopped; a host that
# disappeared may be found deleted from any status; a failed operation leaves the status the
# cloud reports.
MOVES: dict[str, frozenset[str]] = {
    Status.DEPLOYING: frozenset({Status.RUNNING, Status.DEPLOY_FAILED, Status.DELETING}),
    Status.DEPLOY_FAILED: frozenset({Status.DEPLOYING, Status.DELETING}),
    Status.RUNNING: frozenset(
        {Status.STOPPING, Status.RESTARTING, Status.DELETING} | {Status.STOPPED}
    ),
    Status.STOPPED: frozenset(
        {Status.STARTING, Status.RESIZING, Status.DELETING} | {Status.RUNNING}
    ),
    Status.STOPPING: frozenset(_STOPPED_OR_RUNNING | {Status.DELETING}),
    Status.STARTING: frozenset(_STOPPED_OR_RUNNING | {Status.DELETING}),
    Status.RESTARTING: frozenset(_STOPPED_OR_RUNNING | {Status.DELETING}),
    Status.RESIZING: frozenset(_STOPPED_OR_RUNNING | {Status.DELETING}),
    Status.DELETING: frozenset(_STOPPED_OR_RUNNING | {Status.DEPLOY_FAILED}),
    Status.DELETED: frozenset(),
}


class InvalidTransition(ValueError):
    def __init__(self, instance: ServiceInstance, status: str) -> None:
        super().__init__(f"{instance.public_id} cannot move from {instance.status} to {status}")


def can_move(current: str, status: str) -> bool:
    if current == status:
        return True
    if status == Status.DELETED:
        return current != Status.DELETED
    return status in MOVES[current]


@dataclass(frozen=True)
class Action:
    """What an action on an instance needs (``allowed_from``) and the status while it runs."""

    allowed_from: tuple[str, ...]
    during: str


ACTIONS: dict[str, Action] = {
    "deploy": Action((Status.DEPLOY_FAILED,), Status.DEPLOYING),
    "start": Action((Status.STOPPED,), Status.STARTING),
    "stop": Action((Status.RUNNING,), Status.STOPPING),
    "restart": Action((Status.RUNNING,), Status.RESTARTING),
    "resize": Action((Status.STOPPED,), Status.RESIZING),
    "delete": Action(
        tuple(s for s in Status.values if s not in (Status.DELETED, Status.DELETING)),
        Status.DELETING,
    ),
}
# Work on the files of a running host leaves its status as it is.
HOST_WORK = Action((Status.RUNNING,), Status.RUNNING)


def change_status(
    instance: ServiceInstance,
    status: str,
    *,
    reason: str = "",
    stopped_mode: str = "",
    extra_fields: tuple[str, ...] = (),
) -> None:
    """The one way an instance's status changes. Call it inside a transaction holding the
    instance's row lock; a move the table above does not allow raises ``InvalidTransition``."""
    if not can_move(instance.status, status):
        raise InvalidTransition(instance, status)
    changed = status != instance.status
    instance.set_status(status, reason)
    if status == Status.STOPPED:
        instance.stopped_mode = stopped_mode
    instance.save(
        update_fields=[
            "status",
            "status_reason",
            "status_changed_at",
            "stopped_mode",
            "running_since",
            "deleted_at",
            "updated_at",
            *extra_fields,
        ]
    )
    status_changed.send(
        sender=ServiceInstance,
        instance=instance,
        at=instance.status_changed_at if changed else None,
    )


def opened(instance: ServiceInstance) -> None:
    """A new instance exists with its first status; followers start counting from now."""
    status_changed.send(sender=ServiceInstance, instance=instance, at=instance.status_changed_at)
