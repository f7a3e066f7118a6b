"""Who stopped a host and why: read from its last finished stop, for its status line and the
instance list (idle, schedule, budget, a person)."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from accounts.requester import Source
from instances.models import ServiceInstance, Status
from operations.models import Kind, Operation, OperationStatus


def describe_stop(operation: Operation) -> str:
    params = operation.params or {}
    if operation.source == Source.IDLE_POLICY:
        why = params.get("why")
        if why:
            return _("Stopped by the idle policy: %(why)s") % {"why": why}
        return _("Stopped by the idle policy")
    if operation.source == Source.SCHEDULE:
        return _("Stopped by the schedule")
    if operation.source == Source.BUDGET:
        return _("Stopped by the budget: the month's spend reached it")
    if operation.actor is not None:
        return _("Stopped by %(user)s (%(source)s)") % {
            "user": operation.actor.username,
            "source": operation.get_source_display(),
        }
    return _("Stopped by nestops (%(source)s)") % {"source": operation.get_source_display()}


def stop_causes(instances: Iterable[ServiceInstance]) -> dict[int, str]:
    """For each stopped instance, what its last succeeded stop says (one query for all)."""
    stopped = [i.pk for i in instances if i.status == Status.STOPPED]
    if not stopped:
        return {}
    causes: dict[int, str] = {}
    stops = (
        Operation.objects.filter(
            instance_id__in=stopped, kind=Kind.STOP, status=OperationStatus.SUCCEEDED
        )
        .select_related("actor")
        .defer("log", "state", "steps")
        .order_by("instance_id", "-finished_at")
    )
    for operation in stops:
        causes.setdefault(operation.instance_id, describe_stop(operation))
    return causes
