"""The instance page's metrics charts, idle status, and the idle policy, snooze and schedule
forms. Forms are checked by the same rules as the API (its serializers)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import require_role
from autostop.api.views import IdlePolicySerializer, SnoozeSerializer, policy_body
from autostop.models import IdlePolicy, Schedule, TeamIdleSettings
from autostop.schedules import (
    DAYS,
    ScheduleError,
    next_action,
    parse_windows,
    parse_zone,
    save_schedule,
)
from autostop.selectors import snooze_limit_hours, stored_values
from autostop.services import cancel_snooze, save_policy, snooze
from instances.models import ServiceInstance, Status, StopMode
from instances.selectors import visible_instance
from metrics.models import METRIC_KEYS, Metric
from metrics.selectors import series
from nestops.charts import line_chart

RANGES = {
    "1h": (timedelta(hours=1), 60),
    "6h": (timedelta(hours=6), 300),
    "24h": (timedelta(hours=24), 900),
    "7d": (timedelta(days=7), 3600),
}
CHARTS = ("gpu", "gpu_memory", "cpu", "memory", "network")
WIDTH, HEIGHT = 560, 110


def _svg(points: list[Any], since: Any, until: Any, unit: str, label: str) -> SafeString:
    """A small line chart drawn on the server: averages as a line, maxima as a faint one."""
    if not points:
        return format_html('<p class="muted small">{}</p>', _("No data for this period."))
    top = 100.0 if unit == "%" else max(max(p.maximum for p in points), 1.0)
    span = max((until - since).total_seconds(), 1.0)

    def fractions(value: Any) -> list[tuple[float, float]]:
        return [((p.at - since).total_seconds() / span, value(p) / top) for p in points]

    shown = f"{top:.0f} %" if unit == "%" else f"{top / 1e6:.2f} Mbit/s"
    return line_chart(
        [("max", fractions(lambda p: p.maximum)), ("avg", fractions(lambda p: p.average))],
        size=(WIDTH, HEIGHT),
        label=label,
        scale=shown,
    )


def charts(instance: ServiceInstance, range_key: str) -> dict[str, Any]:
    span, step = RANGES.get(range_key, RANGES["1h"])
    until = timezone.now()
    since = until - span
    drawn = []
    for key in CHARTS:
        metric = Metric(METRIC_KEYS[key])
        points, _source = series(instance, metric=metric, since=since, until=until, step=step)
        unit = "bit/s" if metric == Metric.NETWORK_OUT else "%"
        latest = points[-1].average if points else None
        drawn.append(
            {
                "key": key,
                "label": metric.label,
                "svg": _svg(points, since, until, unit, str(metric.label)),
                "latest": latest,
                "unit": unit,
            }
        )
    return {
        "range": range_key if range_key in RANGES else "1h",
        "ranges": list(RANGES),
        "charts": drawn,
    }


def windows_text(windows: list[dict[str, Any]]) -> str:
    return "\n".join(f"{','.join(w['days'])} {w['start']}-{w['end']}" for w in windows)


def parse_windows_text(text: str) -> list[dict[str, Any]]:
    """``mon,tue,wed 09:00-20:00`` per line (``mon-fri`` for a run of days)."""
    found = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            days_part, hours = line.rsplit(" ", 1)
            start, end = hours.split("-")
        except ValueError:
            raise ScheduleError(
                _("Write each window as days and hours, e.g. mon-fri 09:00-20:00.")
            ) from None
        days: list[str] = []
        for part in days_part.replace(" ", "").lower().split(","):
            if "-" in part:
                first, last = part.split("-", 1)
                if first[:3] not in DAYS or last[:3] not in DAYS:
                    raise ScheduleError(_("%(day)s is not a day: use mon … sun.") % {"day": part})
                a, b = DAYS.index(first[:3]), DAYS.index(last[:3])
                days += [DAYS[(a + n) % 7] for n in range((b - a) % 7 + 1)]
            else:
                days.append(part)
        found.append({"days": days, "start": start, "end": end})
    return found


def idle_context(request: HttpRequest, instance: ServiceInstance) -> dict[str, Any]:
    """What the instance page shows about metrics, idle state and schedule."""
    schedule = Schedule.objects.filter(instance=instance).first()
    return {
        "idle": policy_body(instance),
        "schedule": schedule,
        "schedule_next": next_action(schedule) if schedule is not None else None,
        "schedule_windows": windows_text(schedule.windows) if schedule else "",
        "stop_modes": StopMode.choices,
        **charts(instance, request.GET.get("range", "1h")),
    }


def _errors(serializer: Any) -> str:
    return " ".join(
        f"{field}: {message}" if field != "non_field_errors" else str(message)
        for field, problems in serializer.errors.items()
        for message in problems
    )


@login_required
@require_POST
def idle_policy(request: HttpRequest, public_id: str) -> HttpResponse:
    instance = visible_instance(request.user, public_id)
    require_role(request.user, instance.team, Role.OPERATOR)
    current = stored_values(instance, IdlePolicy.objects.filter(instance=instance).first())
    data = {
        "enabled": request.POST.get("enabled") == "on",
        "idle_minutes": request.POST.get("idle_minutes", ""),
        "gpu_threshold": request.POST.get("gpu_threshold", ""),
        "stop_mode": request.POST.get("stop_mode", ""),
        "warning_minutes": request.POST.get("warning_minutes", ""),
        "delete_after_days": request.POST.get("delete_after_days") or None,
        "max_running_hours": request.POST.get("max_running_hours") or None,
    }
    incoming = IdlePolicySerializer(data=data, context={"instance": instance, "current": current})
    if incoming.is_valid():
        save_policy(instance=instance, values=dict(incoming.validated_data), actor=request.user)
        messages.success(request, _("Idle policy saved."))
    else:
        messages.error(
            request, _("The idle policy was not saved: %(errors)s") % {"errors": _errors(incoming)}
        )
    return redirect("instances:detail", public_id=public_id)


@login_required
@require_POST
def instance_snooze(request: HttpRequest, public_id: str) -> HttpResponse:
    instance = visible_instance(request.user, public_id)
    require_role(request.user, instance.team, Role.OPERATOR)
    if request.POST.get("cancel"):
        cancel_snooze(instance=instance, actor=request.user)
        messages.success(request, _("Snooze cancelled: the idle policy applies again."))
        return redirect("instances:detail", public_id=public_id)
    team_settings = TeamIdleSettings.objects.filter(team_id=instance.team_id).first()
    incoming = SnoozeSerializer(
        data={"hours": request.POST.get("hours", ""), "reason": request.POST.get("reason", "")},
        context={"limit": snooze_limit_hours(team_settings)},
    )
    if instance.status in (Status.DELETED, Status.DELETING) or not incoming.is_valid():
        messages.error(
            request,
            _("Not snoozed: %(errors)s")
            % {"errors": _errors(incoming) if incoming.errors else _("the host is deleted.")},
        )
    else:
        found = snooze(
            instance=instance,
            hours=incoming.validated_data["hours"],
            reason=incoming.validated_data["reason"],
            actor=request.user,
        )
        messages.success(
            request,
            _("Kept awake until %(until)s.")
            % {"until": timezone.localtime(found.until).strftime("%Y-%m-%d %H:%M")},
        )
    return redirect("instances:detail", public_id=public_id)


@login_required
@require_POST
def instance_schedule(request: HttpRequest, public_id: str) -> HttpResponse:
    instance = visible_instance(request.user, public_id)
    require_role(request.user, instance.team, Role.OPERATOR)
    if request.POST.get("remove"):
        Schedule.objects.filter(instance=instance).delete()
        messages.success(request, _("Schedule removed."))
        return redirect("instances:detail", public_id=public_id)
    try:
        zone = request.POST.get("time_zone", "").strip()
        parse_zone(zone)
        windows = parse_windows(parse_windows_text(request.POST.get("windows", "")))
    except ScheduleError as exc:
        messages.error(request, _("The schedule was not saved: %(error)s") % {"error": exc})
        return redirect("instances:detail", public_id=public_id)
    save_schedule(
        instance=instance,
        time_zone=zone,
        windows=windows,
        enabled=request.POST.get("enabled") == "on",
        actor=request.user,
    )
    messages.success(request, _("Schedule saved."))
    return redirect("instances:detail", public_id=public_id)
