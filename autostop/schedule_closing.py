"""A schedule's closing: stop the hosts nobody uses, warn and wait for those in use.

A host still in use when its window closes is stopped only after the idle policy's warning
period passes with no activity (and its team is warned once), not at the first tick where no
job happens to run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.requester import Source
from autostop import webui_poll
from autostop.models import IdleEvaluation, IdlePolicy, Schedule, TeamIdleSettings
from autostop.selectors import effective_policy
from instances.models import ServiceInstance, Status, StopMode
from notifications.services import notify
from operations.models import Operation
from operations.policy_stop import request_policy_stop


@dataclass
class ScheduleReport:
    checked: int = 0
    started: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    waiting: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)


def clear(schedule: Schedule, operation: Operation | None = None) -> None:
    fields: dict[str, Any] = {
        "pending_action": "",
        "pending_since": None,
        "closing_in_use_at": None,
    }
    if operation is not None:
        fields.update(last_operation=operation, failure_reported=False)
    Schedule.objects.filter(pk=schedule.pk).update(**fields)


def stop_all(schedules: list[Schedule], now: datetime, report: ScheduleReport) -> None:
    """Closing boundaries: stop hosts nobody is generating on (asked in parallel, bounded)."""
    running = [s for s in schedules if s.instance.status == Status.RUNNING]
    for schedule in schedules:
        if schedule.instance.status == Status.STOPPED:
            clear(schedule)
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
        # The host's pinned certificate comes along: the poll's threads never query.
        for i in ServiceInstance.objects.filter(pk__in=[s.instance_id for s in askable])
        .select_related("webui_certificate")
        .only("id", "webui_endpoint", "webui_user", "webui_password", "webui_certificate__pem")
    }
    answers = webui_poll.poll(
        [credentials[s.instance_id] for s in askable if s.instance_id in credentials],
        concurrency=settings.NESTOPS_IDLE_WEBUI_CONCURRENCY,
        timeout=settings.NESTOPS_IDLE_WEBUI_TIMEOUT_SECONDS,
        budget=settings.NESTOPS_IDLE_WEBUI_BUDGET_SECONDS,
    )
    quiet_since = _last_activity(running)
    for schedule in running:
        public_id = schedule.instance.public_id
        answer = answers.get(schedule.instance_id)
        if schedule.pk in snoozed:
            report.waiting[public_id] = "snoozed"
            continue
        in_use = answer is not None and (answer.busy or answer.state == "not_asked")
        if in_use:
            _seen_in_use(schedule, now)
        seen = [quiet_since.get(schedule.instance_id), schedule.closing_in_use_at]
        last = max((moment for moment in seen if moment is not None), default=None)
        if last is not None and now - last < _warning_period(schedule.instance):
            # In use at the closing: stop only after the warning period passes with no
            # activity (a user between two images keeps the host).
            report.waiting[public_id] = answer.state if in_use and answer else "in use"
        else:
            _stop(schedule, report)


def _last_activity(schedules: list[Schedule]) -> dict[int, datetime]:
    """When the idle job last saw each host in use (GPU, WebUI jobs, the gateway)."""
    rows = IdleEvaluation.objects.filter(
        instance_id__in=[s.instance_id for s in schedules], last_activity_at__isnull=False
    ).values_list("instance_id", "last_activity_at")
    return dict(rows)


def _warning_period(instance: ServiceInstance) -> timedelta:
    policy = IdlePolicy.objects.filter(instance=instance).first()
    team_settings = TeamIdleSettings.objects.filter(team_id=instance.team_id).first()
    return timedelta(minutes=effective_policy(instance, policy, team_settings).warning_minutes)


def _seen_in_use(schedule: Schedule, now: datetime) -> None:
    """Remembers that the closing found the host in use; the first time, warns its team."""
    # Only the run that sets the first mark warns (two runs in parallel warn once).
    first = Schedule.objects.filter(pk=schedule.pk, closing_in_use_at__isnull=True).update(
        closing_in_use_at=now
    )
    if not first:
        Schedule.objects.filter(pk=schedule.pk).update(closing_in_use_at=now)
    schedule.closing_in_use_at = now
    if not first:
        return
    instance = schedule.instance
    minutes = int(_warning_period(instance).total_seconds() // 60)
    notify(
        team=instance.team,
        event="schedule.closing",
        subject=_("%(name)s is in use at its closing time") % {"name": instance.name},
        message=_(
            "A window of its schedule closed while %(name)s (%(id)s) was in use. It will be "
            "save-stopped once it has had no activity for %(minutes)s minutes; snooze it to "
            "keep it longer."
        )
        % {"name": instance.name, "id": instance.public_id, "minutes": minutes},
        data={"instance": instance.public_id, "minutes": minutes},
    )


def _stop(schedule: Schedule, report: ScheduleReport) -> None:
    instance = schedule.instance

    def record_and_tell(operation: Operation) -> None:
        clear(schedule, operation)
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

    stop = request_policy_stop(
        instance=instance,
        source=Source.SCHEDULE,
        mode=StopMode.STOP_CHARGING,
        params={"reason": "schedule"},
        then=record_and_tell,
    )
    if stop.refusal is not None:
        report.waiting[instance.public_id] = stop.refusal.code
        return
    report.stopped.append(instance.public_id)
