"""What an idle run does about a host: warn once per idle stretch, stop it (source
``idle_policy``), tell the team when a host cannot be watched, and delete hosts stopped for
longer than their policy allows. Each notification is claimed on the host's evaluation row, so
parallel runs send it once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.requester import Requester, Source
from autostop import idle_assessment
from autostop.models import IdleEvaluation, IdleVerdict
from instances.models import ServiceInstance, Status
from nestops.times import iso_time
from notifications.services import notify
from operations.models import Kind, Operation
from operations.policy_stop import request_policy_stop
from operations.services import OperationRefused, request_operation

logger = logging.getLogger("nestops.idle")


@dataclass
class IdleReport:
    evaluated: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    webui_asked: int = 0
    webui_not_asked: int = 0
    warned: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    blind: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def _describe_host(instance: ServiceInstance) -> dict[str, str]:
    return {"instance": instance.public_id, "name": instance.name}


def act(a: idle_assessment.Assessment, now: datetime, report: IdleReport) -> None:
    warning = timedelta(minutes=a.policy.warning_minutes)
    # The WebUI must have said "idle" in this run before anything is said or done.
    webui_idle = a.webui is not None and a.webui.state == "idle"
    if a.verdict == IdleVerdict.BLIND:
        _notify_blind(a, now, report)
    max_run_due = a.max_run_due()
    if (
        max_run_due is not None
        and not a.operations
        and a.snooze is None
        and a.webui is not None
        and a.webui.state in ("idle", "unreachable")
    ):
        if now >= max_run_due:
            _stop(a, now, report, reason="max_running_time")
            return
        if warning and now >= max_run_due - warning:
            _warn_max_run(a, now, max_run_due, report)
    if a.verdict != IdleVerdict.IDLE or not webui_idle:
        return
    idle_for = now - a.last_activity
    if idle_for >= a.window:
        _stop(a, now, report, reason="idle")
    elif warning and idle_for >= a.window - warning:
        _warn(a, now, report)


def _claim(instance: ServiceInstance, column: str, anchor: datetime) -> bool:
    """Marks a notification as sent for this stretch; False if it already was (by us or by a
    run in parallel)."""
    return (
        IdleEvaluation.objects.filter(pk=instance.pk)
        .exclude(**{column: anchor})
        .update(**{column: anchor})
        == 1
    )


def _minutes(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))


def _warn(a: idle_assessment.Assessment, now: datetime, report: IdleReport) -> None:
    instance = a.instance
    with transaction.atomic():
        if not _claim(instance, "warned_for", a.last_activity):
            return
        idle = _minutes(now - a.last_activity)
        left = max(1, _minutes(a.last_activity + a.window - now))
        notify(
            team=instance.team,
            event="idle.warning",
            subject=_("%(name)s will be stopped in %(minutes)s min (idle)")
            % {"name": instance.name, "minutes": left},
            message=_(
                "%(name)s (%(id)s) has been idle for %(idle)s min: GPU under %(threshold)s %%, "
                "no WebUI job, no operation. It will be stopped (%(mode)s) in about "
                "%(minutes)s min unless someone uses it or snoozes it."
            )
            % {
                "name": instance.name,
                "id": instance.public_id,
                "idle": idle,
                "threshold": a.policy.gpu_threshold,
                "mode": a.policy.stop_mode,
                "minutes": left,
            },
            data={**_describe_host(instance), "idle_minutes": idle, "stops_in_minutes": left},
        )
    report.warned.append(instance.public_id)


def _warn_max_run(
    a: idle_assessment.Assessment, now: datetime, due: datetime, report: IdleReport
) -> None:
    instance = a.instance
    with transaction.atomic():
        if not _claim(instance, "max_run_warned_for", due):
            return
        left = max(1, _minutes(due - now))
        notify(
            team=instance.team,
            event="idle.warning",
            subject=_("%(name)s will be stopped in %(minutes)s min (maximum running time)")
            % {"name": instance.name, "minutes": left},
            message=_(
                "%(name)s (%(id)s) reaches its maximum running time of %(hours)s h in about "
                "%(minutes)s min and will then be stopped (%(mode)s), unless a WebUI job is "
                "running or someone snoozes it."
            )
            % {
                "name": instance.name,
                "id": instance.public_id,
                "hours": a.policy.max_running_hours,
                "minutes": left,
                "mode": a.policy.stop_mode,
            },
            data={**_describe_host(instance), "stops_in_minutes": left},
        )
    report.warned.append(instance.public_id)


def _notify_blind(a: idle_assessment.Assessment, now: datetime, report: IdleReport) -> None:
    instance = a.instance
    assert a.missing_since is not None
    with transaction.atomic():
        if not _claim(instance, "blind_notified_for", a.missing_since):
            return
        what = (
            _("no GPU metrics from CloudMonitor")
            if a.reason == "no_gpu_metrics"
            else _("its WebUI does not answer")
        )
        minutes = _minutes(now - a.missing_since)
        notify(
            team=instance.team,
            event="idle.blind",
            subject=_("%(name)s cannot be watched: %(what)s")
            % {"name": instance.name, "what": what},
            message=_(
                "nestops has had %(what)s for %(minutes)s min for %(name)s (%(id)s), longer "
                "than its idle window of %(window)s min. A host whose activity cannot be seen "
                "is never stopped: check the CloudMonitor agent and the WebUI, or stop the host "
                "if nobody uses it."
            )
            % {
                "what": what,
                "minutes": minutes,
                "name": instance.name,
                "id": instance.public_id,
                "window": a.policy.idle_minutes,
            },
            data={**_describe_host(instance), "reason": a.reason, "missing_minutes": minutes},
        )
    report.blind.append(instance.public_id)


def _why(a: idle_assessment.Assessment, now: datetime, reason: str) -> str:
    if reason == "max_running_time":
        return _("running for %(hours)s h, its maximum per start") % {
            "hours": a.policy.max_running_hours
        }
    return _(
        "idle for %(minutes)s min (GPU under %(threshold)s %%, no WebUI job, no operation)"
    ) % {
        "minutes": _minutes(now - a.last_activity),
        "threshold": a.policy.gpu_threshold,
    }


def _stop(a: idle_assessment.Assessment, now: datetime, report: IdleReport, *, reason: str) -> None:
    instance = a.instance
    why = _why(a, now, reason)

    def record_and_tell(operation: Operation) -> None:
        IdleEvaluation.objects.filter(pk=instance.pk).update(
            verdict=IdleVerdict.STOPPING, reason=reason, stop_operation=operation
        )
        notify(
            team=instance.team,
            event="idle.stopped",
            subject=_("%(name)s is being stopped: %(why)s") % {"name": instance.name, "why": why},
            message=_(
                "nestops is stopping %(name)s (%(id)s, %(mode)s) because it was %(why)s. "
                "Operation %(operation)s. Start it again from the dashboard or the API."
            )
            % {
                "name": instance.name,
                "id": instance.public_id,
                "mode": a.policy.stop_mode,
                "why": why,
                "operation": operation.public_id,
            },
            data={**_describe_host(instance), "operation": operation.public_id, "reason": reason},
        )

    stop = request_policy_stop(
        instance=instance,
        source=Source.IDLE_POLICY,
        mode=a.policy.stop_mode,
        params={"reason": reason, "why": why, "signals": idle_assessment.recorded_signals(a, now)},
        then=record_and_tell,
    )
    if stop.refusal is not None:
        report.refused[instance.public_id] = stop.refusal.code
        return
    assert stop.operation is not None
    report.stopped.append(instance.public_id)
    logger.info("idle policy stops %s: %s (%s)", instance.public_id, why, stop.operation.public_id)


def delete_long_stopped(
    now: datetime, operations: dict[int, list[dict[str, str]]], report: IdleReport
) -> None:
    """Deletes hosts stopped for longer than their policy's ``delete_after_days``; the team is
    warned a day before (or at once when the policy allows less)."""
    candidates = ServiceInstance.objects.filter(
        status=Status.STOPPED, idle_policy__delete_after_days__isnull=False
    ).select_related("team", "idle_policy", "idle_evaluation")
    for instance in candidates:
        if instance.pk in operations or instance.subscription_active:
            continue
        days = instance.idle_policy.delete_after_days
        due = instance.status_changed_at + timedelta(days=days)
        if now >= due:
            _delete(instance, days, report)
        elif now >= due - timedelta(days=1):
            _warn_delete(instance, due, now, report)


def _warn_delete(
    instance: ServiceInstance, due: datetime, now: datetime, report: IdleReport
) -> None:
    IdleEvaluation.objects.get_or_create(
        instance=instance,
        defaults={"evaluated_at": now, "verdict": IdleVerdict.IDLE, "reason": "stopped"},
    )
    with transaction.atomic():
        if not _claim(instance, "warned_for", due):
            return
        notify(
            team=instance.team,
            event="idle.warning",
            subject=_("%(name)s will be deleted on %(date)s")
            % {"name": instance.name, "date": f"{due:%Y-%m-%d %H:%M} UTC"},
            message=_(
                "%(name)s (%(id)s) has been stopped since %(since)s. Its idle policy deletes "
                "hosts stopped for %(days)s days: it will be deleted, with its disk, on %(date)s "
                "unless it is started or the policy changed."
            )
            % {
                "name": instance.name,
                "id": instance.public_id,
                "since": f"{instance.status_changed_at:%Y-%m-%d %H:%M} UTC",
                "days": instance.idle_policy.delete_after_days,
                "date": f"{due:%Y-%m-%d %H:%M} UTC",
            },
            data={**_describe_host(instance), "delete_at": iso_time(due)},
        )
    report.warned.append(instance.public_id)


def _delete(instance: ServiceInstance, days: int, report: IdleReport) -> None:
    try:
        operation, _created = request_operation(
            instance=instance,
            kind=Kind.DELETE,
            params={"reason": "stopped_too_long", "days": days},
            requester=Requester.policy(Source.IDLE_POLICY),
        )
    except OperationRefused as exc:
        report.refused[instance.public_id] = exc.code
        return
    with transaction.atomic():
        notify(
            team=instance.team,
            event="idle.deleted",
            subject=_("%(name)s is being deleted (stopped for %(days)s days)")
            % {"name": instance.name, "days": days},
            message=_(
                "nestops is deleting %(name)s (%(id)s): it was stopped for %(days)s days, the "
                "limit of its idle policy. Operation %(operation)s."
            )
            % {
                "name": instance.name,
                "id": instance.public_id,
                "days": days,
                "operation": operation.public_id,
            },
            data={**_describe_host(instance), "operation": operation.public_id},
        )
    report.deleted.append(instance.public_id)
