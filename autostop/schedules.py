"""On/off-hours schedules: weekly windows in a time zone, and ``apply_schedules`` (beat, 60 s).

The windows themselves (parsing, open periods, boundaries) are arithmetic on times and zones,
in ``autostop.schedule_windows``; this module keeps what touches schedules and hosts.

The job acts on *boundaries crossed* since it last ran, not on "is it inside a window now": a
window's opening starts the host (source ``schedule``), its closing save-stops it. So a host
started by hand outside the windows runs until the next boundary, and one stopped by hand
inside a window stays stopped until the next opening. A scheduled stop waits while the WebUI
is generating or the host is snoozed; a boundary that could not be acted on (another operation
under way) stays pending and is retried every run, a start for at most the grace period.
"""

from __future__ import annotations

import logging
import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.requester import Requester, Source
from autostop.models import Schedule
from autostop.schedule_closing import ScheduleReport, clear, stop_all
from autostop.schedule_windows import (
    DAYS,
    START,
    WEEK,
    ScheduleError,
    Window,
    boundaries,
    next_boundary,
    parse_windows,
    parse_zone,
)
from instances.models import ServiceInstance, Status
from notifications.services import notify
from operations.models import LIFECYCLE_KINDS, Kind, Operation, OperationStatus
from operations.services import OperationRefused, request_operation

# The dashboard and the API read the window vocabulary through this module.
__all__ = [
    "DAYS",
    "ScheduleError",
    "ScheduleReport",
    "apply_schedules",
    "next_action",
    "parse_windows",
    "parse_zone",
    "save_schedule",
    "windows_of",
]

logger = logging.getLogger("nestops.schedules")


def windows_of(schedule: Schedule) -> list[Window]:
    return parse_windows(schedule.windows)


def next_action(schedule: Schedule, now: datetime | None = None) -> dict[str, Any] | None:
    """What the schedule does next, for the API and the instance page."""
    if not schedule.enabled:
        return None
    now = now or timezone.now()
    zone = zoneinfo.ZoneInfo(schedule.time_zone)
    found = next_boundary(windows_of(schedule), zone, now)
    if found is None:
        return None
    at, action = found
    local = at.astimezone(zone)
    return {
        "action": action,
        "at": at,
        "local": f"{DAYS[local.weekday()]} {local:%Y-%m-%d %H:%M} {local.tzname()}",
    }


# --- services ------------------------------------------------------------------------------------


def save_schedule(
    *, instance: ServiceInstance, time_zone: str, windows: list[Window], enabled: bool, actor: Any
) -> Schedule:
    """Creates or replaces the schedule; boundaries before now are not acted on."""
    now = timezone.now()
    with transaction.atomic():
        schedule, _created = Schedule.objects.update_or_create(
            instance=instance,
            defaults={
                "time_zone": time_zone,
                "windows": [w.as_dict() for w in windows],
                "enabled": enabled,
                "applied_until": now,
                "pending_action": "",
                "pending_since": None,
                "updated_by": actor if getattr(actor, "is_authenticated", False) else None,
            },
        )
    return schedule


# --- the job -----------------------------------------------------------------------------------


def apply_schedules(now: datetime | None = None) -> ScheduleReport:
    now = now or timezone.now()
    report = ScheduleReport()
    grace = timedelta(minutes=settings.NESTOPS_SCHEDULE_GRACE_MINUTES)
    busy = set(
        Operation.objects.active()
        .filter(kind__in=LIFECYCLE_KINDS)
        .values_list("instance_id", flat=True)
    )
    schedules = list(
        Schedule.objects.filter(enabled=True)
        .exclude(instance__status=Status.DELETED)
        .select_related("instance", "instance__team", "last_operation")
    )
    report.checked = len(schedules)
    stops_waiting: list[Schedule] = []
    quiet: list[int] = []
    for schedule in schedules:
        _report_failed_operation(schedule, report)
        after = max(schedule.applied_until, now - WEEK)
        if after < now:
            try:
                crossed = boundaries(
                    windows_of(schedule), zoneinfo.ZoneInfo(schedule.time_zone), after, now
                )
            except (ScheduleError, zoneinfo.ZoneInfoNotFoundError) as exc:
                report.failed[schedule.instance.public_id] = str(exc)
                continue
            if not crossed:
                quiet.append(schedule.pk)
            else:
                at, action = crossed[-1]
                if now - at > grace:
                    pending, since = "", None
                    report.missed.append(schedule.instance.public_id)
                else:
                    pending, since = action, at
                # Claim the boundary: a second run in parallel finds applied_until changed.
                if not Schedule.objects.filter(
                    pk=schedule.pk, applied_until=schedule.applied_until
                ).update(applied_until=now, pending_action=pending, pending_since=since):
                    continue
                schedule.applied_until = now
                schedule.pending_action, schedule.pending_since = pending, since
        if not schedule.pending_action:
            continue
        if schedule.instance_id in busy:
            _wait_or_give_up(schedule, now, grace, _("another operation is under way"), report)
        elif schedule.pending_action == START:
            _start(schedule, now, grace, report)
        else:
            stops_waiting.append(schedule)
    # Nothing crossed: move their mark on in one statement (never backwards, should a run
    # in parallel already have moved it further).
    Schedule.objects.filter(pk__in=quiet, applied_until__lt=now).update(applied_until=now)
    stop_all(stops_waiting, now, report)
    return report


def _failed(schedule: Schedule, why: str, report: ScheduleReport) -> None:
    instance = schedule.instance
    action = _("start") if schedule.pending_action == START else _("stop")
    with transaction.atomic():
        clear(schedule)
        notify(
            team=instance.team,
            event="schedule.failed",
            subject=_("The schedule could not %(action)s %(name)s")
            % {"action": action, "name": instance.name},
            message=_("The schedule of %(name)s (%(id)s) could not %(action)s it: %(why)s")
            % {"name": instance.name, "id": instance.public_id, "action": action, "why": why},
            data={"instance": instance.public_id, "action": schedule.pending_action, "why": why},
        )
    report.failed[instance.public_id] = why


def _wait_or_give_up(
    schedule: Schedule, now: datetime, grace: timedelta, why: str, report: ScheduleReport
) -> None:
    since = schedule.pending_since or now
    if schedule.pending_action == START and now - since > grace:
        _failed(schedule, why, report)
    else:
        report.waiting[schedule.instance.public_id] = why


def _start(schedule: Schedule, now: datetime, grace: timedelta, report: ScheduleReport) -> None:
    instance = schedule.instance
    if instance.status == Status.RUNNING:
        clear(schedule)
        return
    if instance.status != Status.STOPPED:
        if instance.status in (Status.DEPLOY_FAILED, Status.DELETING):
            _failed(schedule, _("the host is %(status)s") % {"status": instance.status}, report)
        else:
            _wait_or_give_up(schedule, now, grace, instance.status, report)
        return
    try:
        operation, _created = request_operation(
            instance=instance,
            kind=Kind.START,
            params={"reason": "schedule"},
            requester=Requester.policy(Source.SCHEDULE),
        )
    except OperationRefused as exc:
        _wait_or_give_up(schedule, now, grace, exc.message, report)
        return
    with transaction.atomic():
        clear(schedule, operation)
        notify(
            team=instance.team,
            event="schedule.started",
            subject=_("%(name)s is starting (schedule)") % {"name": instance.name},
            message=_(
                "A window of its schedule opened: %(name)s (%(id)s) is starting, "
                "operation %(operation)s."
            )
            % {"name": instance.name, "id": instance.public_id, "operation": operation.public_id},
            data={"instance": instance.public_id, "operation": operation.public_id},
        )
    report.started.append(instance.public_id)


def _report_failed_operation(schedule: Schedule, report: ScheduleReport) -> None:
    operation = schedule.last_operation
    if operation is None or schedule.failure_reported or operation.status != OperationStatus.FAILED:
        return
    instance = schedule.instance
    with transaction.atomic():
        if not Schedule.objects.filter(pk=schedule.pk, failure_reported=False).update(
            failure_reported=True
        ):
            return
        notify(
            team=instance.team,
            event="schedule.failed",
            subject=_("The scheduled %(kind)s of %(name)s failed")
            % {"kind": operation.kind, "name": instance.name},
            message=_(
                "Operation %(operation)s (%(kind)s of %(name)s, %(id)s) failed: "
                "%(code)s: %(message)s"
            )
            % {
                "operation": operation.public_id,
                "kind": operation.kind,
                "name": instance.name,
                "id": instance.public_id,
                "code": operation.error_code,
                "message": operation.error_message,
            },
            data={"instance": instance.public_id, "operation": operation.public_id},
        )
    report.failed[instance.public_id] = operation.error_code
