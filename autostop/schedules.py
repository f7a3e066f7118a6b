"""On/off-hours schedules: weekly windows in a time zone, and ``apply_schedules`` (beat, 60 s).

A window is days of the week, an opening and a closing time in the schedule's IANA time zone
(``{"days": ["mon", "tue"], "start": "09:00", "end": "20:00"}``). A closing time at or before
the opening closes the next day (``22:00``-``02:00``); ``24:00`` closes at midnight. Windows that
touch are one window (Mon 20:00-24:00 and Tue 00:00-08:00 do not stop the host at midnight).

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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.requester import Requester, Source
from autostop import webui_poll
from autostop.models import Schedule
from instances.models import ServiceInstance, Status, StopMode
from notifications.services import notify
from operations.models import LIFECYCLE_KINDS, Kind, Operation, OperationStatus
from operations.services import OperationRefused, request_operation

logger = logging.getLogger("nestops.schedules")

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
START, STOP = "start", "stop"
MAX_WINDOWS = 28
WEEK = timedelta(days=7)


class ScheduleError(ValueError):
    """A schedule that does not make sense; the message says why."""


@dataclass(frozen=True)
class Window:
    days: tuple[int, ...]  # 0 = Monday
    start: time
    end: time | None  # None: midnight at the end of the day ("24:00")

    def length(self) -> timedelta:
        begin = timedelta(hours=self.start.hour, minutes=self.start.minute)
        if self.end is None:
            finish = timedelta(days=1)
        else:
            finish = timedelta(hours=self.end.hour, minutes=self.end.minute)
            if finish <= begin:
                finish += timedelta(days=1)
        return finish - begin

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": [DAYS[d] for d in self.days],
            "start": f"{self.start:%H:%M}",
            "end": "24:00" if self.end is None else f"{self.end:%H:%M}",
        }


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def parse_zone(name: str) -> zoneinfo.ZoneInfo:
    if not isinstance(name, str) or name not in _zone_names():
        raise ScheduleError(
            _("%(zone)s is not a time zone: use an IANA name such as Asia/Shanghai.")
            % {"zone": name}
        )
    return zoneinfo.ZoneInfo(name)


def _parse_time(value: Any, *, closing: bool) -> time | None:
    text = str(value or "").strip()
    if closing and text == "24:00":
        return None
    try:
        hours, minutes = text.split(":")
        if len(minutes) != 2:
            raise ValueError(text)
        return time(int(hours), int(minutes))
    except ValueError:
        raise ScheduleError(
            _("%(value)s is not a time of day: use HH:MM (24-hour, 24:00 for midnight at the end).")
            % {"value": text or "''"}
        ) from None


def parse_windows(raw: Any) -> list[Window]:
    """Validates windows as the API and the forms send them."""
    if not isinstance(raw, list) or not raw:
        raise ScheduleError(_("Give at least one window."))
    if len(raw) > MAX_WINDOWS:
        raise ScheduleError(_("At most %(count)s windows.") % {"count": MAX_WINDOWS})
    windows = []
    for item in raw:
        if not isinstance(item, dict):
            raise ScheduleError(_('A window is {"days": [...], "start": "HH:MM", "end": "HH:MM"}.'))
        days = item.get("days")
        if not isinstance(days, list) or not days:
            raise ScheduleError(_("A window needs at least one day (mon … sun)."))
        numbers = []
        for day in days:
            name = str(day).lower()[:3]
            if name not in DAYS:
                raise ScheduleError(_("%(day)s is not a day: use mon … sun.") % {"day": day})
            numbers.append(DAYS.index(name))
        if len(set(numbers)) != len(numbers):
            raise ScheduleError(_("A window names a day twice."))
        start = _parse_time(item.get("start"), closing=False)
        end = _parse_time(item.get("end"), closing=True)
        assert start is not None
        if end is not None and end == start:
            raise ScheduleError(
                _("A window opens and closes at %(time)s: give it a length.")
                % {"time": f"{start:%H:%M}"}
            )
        windows.append(Window(tuple(sorted(numbers)), start, end))
    _refuse_overlaps(windows)
    return windows


def _refuse_overlaps(windows: list[Window]) -> None:
    # On a plain weekly clock (minutes from Monday 00:00), windows may touch but not overlap.
    spans = []
    for window in windows:
        begin = window.start.hour * 60 + window.start.minute
        length = int(window.length().total_seconds() // 60)
        for day in window.days:
            start = day * 1440 + begin
            spans.append((start, start + length, window, day))
    week = 7 * 1440
    for i, (a_start, a_end, a_window, a_day) in enumerate(spans):
        for b_start, b_end, b_window, b_day in spans[i + 1 :]:
            for shift in (-week, 0, week):
                if a_start < b_end + shift and b_start + shift < a_end:
                    raise ScheduleError(
                        _("Windows overlap: %(a)s and %(b)s.")
                        % {"a": _label(a_window, a_day), "b": _label(b_window, b_day)}
                    )


def _label(window: Window, day: int) -> str:
    end = "24:00" if window.end is None else f"{window.end:%H:%M}"
    return f"{DAYS[day]} {window.start:%H:%M}-{end}"


def windows_of(schedule: Schedule) -> list[Window]:
    return parse_windows(schedule.windows)


# --- boundaries --------------------------------------------------------------------------------


def _local(day: date, at: time | None, zone: zoneinfo.ZoneInfo) -> datetime:
    if at is None:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    # A time skipped by a DST change (02:30 on a spring-forward day) is read with the offset
    # before the change, i.e. an hour later on the clock; a repeated one is its first instance.
    return datetime.combine(day, at, tzinfo=zone)


def intervals(
    windows: list[Window], zone: zoneinfo.ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The open periods (UTC, merged where they touch) overlapping [start, end]."""
    first = (start.astimezone(zone) - timedelta(days=2)).date()
    last = (end.astimezone(zone) + timedelta(days=1)).date()
    found = []
    day = first
    while day <= last:
        for window in windows:
            if day.weekday() in window.days:
                opens = _local(day, window.start, zone)
                if window.end is not None and window.end <= window.start:
                    closes = _local(day + timedelta(days=1), window.end, zone)
                else:
                    closes = _local(day, window.end, zone)
                found.append((opens.astimezone(UTC), closes.astimezone(UTC)))
        day += timedelta(days=1)
    found.sort()
    merged: list[tuple[datetime, datetime]] = []
    for opens, closes in found:
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return [(a, b) for a, b in merged if b >= start and a <= end]


def boundaries(
    windows: list[Window], zone: zoneinfo.ZoneInfo, after: datetime, until: datetime
) -> list[tuple[datetime, str]]:
    """Openings (start) and closings (stop) in (after, until], in order."""
    found = []
    for opens, closes in intervals(windows, zone, after, until):
        if after < opens <= until:
            found.append((opens, START))
        if after < closes <= until:
            found.append((closes, STOP))
    return sorted(found)


def next_boundary(
    windows: list[Window], zone: zoneinfo.ZoneInfo, now: datetime
) -> tuple[datetime, str] | None:
    ahead = boundaries(windows, zone, now, now + WEEK + timedelta(days=1))
    return ahead[0] if ahead else None


def is_open(windows: list[Window], zone: zoneinfo.ZoneInfo, at: datetime) -> bool:
    return any(a <= at < b for a, b in intervals(windows, zone, at, at))


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


@dataclass
class ScheduleReport:
    checked: int = 0
    started: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    waiting: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)


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
    _stop_all(stops_waiting, now, report)
    return report


def _clear(schedule: Schedule, operation: Operation | None = None) -> None:
    fields: dict[str, Any] = {"pending_action": "", "pending_since": None}
    if operation is not None:
        fields.update(last_operation=operation, failure_reported=False)
    Schedule.objects.filter(pk=schedule.pk).update(**fields)


def _failed(schedule: Schedule, why: str, report: ScheduleReport) -> None:
    instance = schedule.instance
    action = _("start") if schedule.pending_action == START else _("stop")
    with transaction.atomic():
        _clear(schedule)
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
        _clear(schedule)
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
        _clear(schedule, operation)
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


def _stop_all(schedules: list[Schedule], now: datetime, report: ScheduleReport) -> None:
    """Closing boundaries: stop hosts nobody is generating on (asked in parallel, bounded)."""
    running = [s for s in schedules if s.instance.status == Status.RUNNING]
    for schedule in schedules:
        if schedule.instance.status == Status.STOPPED:
            _clear(schedule)
        elif schedule.instance.status != Status.RUNNING:
            report.waiting[schedule.instance.public_id] = schedule.instance.status
    if not running:
        return
    snoozed = set(
        Schedule.objects.filter(
            pk__in=[s.pk for s in running],
            instance__snoozes__until__gt=now,
            instance__snoozes__cancelled_at__isnull=True,
        ).values_list("pk", flat=True)
    )
    askable = [s for s in running if s.pk not in snoozed]
    credentials = {
        i.pk: i
        for i in ServiceInstance.objects.filter(pk__in=[s.instance_id for s in askable]).only(
            "id", "webui_endpoint", "webui_user", "webui_password"
        )
    }
    answers = webui_poll.poll(
        [credentials[s.instance_id] for s in askable if s.instance_id in credentials],
        concurrency=settings.NESTOPS_IDLE_WEBUI_CONCURRENCY,
        timeout=settings.NESTOPS_IDLE_WEBUI_TIMEOUT_SECONDS,
        budget=settings.NESTOPS_IDLE_WEBUI_BUDGET_SECONDS,
    )
    for schedule in running:
        public_id = schedule.instance.public_id
        answer = answers.get(schedule.instance_id)
        if schedule.pk in snoozed:
            report.waiting[public_id] = "snoozed"
        elif answer is not None and (answer.busy or answer.state == "not_asked"):
            # Someone is generating: the stop waits for the job (until the next opening).
            report.waiting[public_id] = answer.state
        else:
            _stop(schedule, report)


def _stop(schedule: Schedule, report: ScheduleReport) -> None:
    instance = schedule.instance
    try:
        operation, _created = request_operation(
            instance=instance,
            kind=Kind.STOP,
            params={"mode": StopMode.STOP_CHARGING, "reason": "schedule"},
            requester=Requester.policy(Source.SCHEDULE),
        )
    except OperationRefused as exc:
        report.waiting[instance.public_id] = exc.code
        return
    with transaction.atomic():
        _clear(schedule, operation)
        notify(
            team=instance.team,
            event="schedule.stopped",
            subject=_("%(name)s is being stopped (schedule)") % {"name": instance.name},
            message=_(
                "A window of its schedule closed: %(name)s (%(id)s) is being save-stopped, "
                "operation %(operation)s."
            )
            % {"name": instance.name, "id": instance.public_id, "operation": operation.public_id},
            data={"instance": instance.public_id, "operation": operation.public_id},
        )
    report.stopped.append(instance.public_id)


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
