"""The idle status of a host as people read it: "idle for 23 min, stops in 7 min",
"active: generating", "blind: no GPU metrics for 40 min". Built from the stored evaluation at
read time, so the minutes are current; the API, the list and the instance page all use it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from autostop.models import IdleEvaluation, IdleVerdict
from instances.models import ServiceInstance, Status
from nestops.times import iso_time

# Older than this, the status says when it was last checked (the job may be down).
STALE_AFTER = timedelta(minutes=3)


def _minutes(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))


def _duration(delta: timedelta) -> str:
    minutes = _minutes(delta)
    if minutes < 60:
        return _("%(minutes)s min") % {"minutes": minutes}
    return _("%(hours)s h %(minutes)s min") % {"hours": minutes // 60, "minutes": minutes % 60}


def _active_text(evaluation: IdleEvaluation, now: datetime) -> str:
    signals = evaluation.signals or {}
    webui = signals.get("webui") or {}
    gpu = signals.get("gpu") or {}
    reason = evaluation.reason
    if reason == "generating":
        return _("active: generating")
    if reason == "queued":
        count = int(webui.get("job_count") or 1)
        return _("active: queued jobs: %(count)s") % {"count": count}
    if reason == "gpu":
        return _("active: GPU %(value)s %%") % {"value": round(float(gpu.get("value") or 0))}
    if reason == "operation":
        operations = signals.get("operations") or [{}]
        return _("active: %(kind)s %(operation)s running") % {
            "kind": operations[0].get("kind", ""),
            "operation": operations[0].get("id", ""),
        }
    if reason == "no_gpu_metrics":
        return _("active: no GPU metrics for %(duration)s (counted as activity)") % {
            "duration": _duration(now - (evaluation.missing_since or now))
        }
    if reason == "webui_unreachable":
        return _("active: WebUI not answering for %(duration)s (counted as activity)") % {
            "duration": _duration(now - (evaluation.missing_since or now))
        }
    return _("active")


def idle_status(
    instance: ServiceInstance, evaluation: IdleEvaluation | None, now: datetime | None = None
) -> dict[str, Any] | None:
    """``None`` for a host that is not running or was never evaluated."""
    if instance.status != Status.RUNNING or evaluation is None:
        return None
    now = now or timezone.now()
    verdict = evaluation.verdict
    idle_minutes: int | None = None
    stops_in: int | None = None
    if verdict == IdleVerdict.IDLE and evaluation.last_activity_at:
        idle_minutes = _minutes(now - evaluation.last_activity_at)
        due = evaluation.stop_due_at or now
        stops_in = _minutes(due - now)
        if due > now:
            text = _("idle for %(idle)s, stops in %(left)s") % {
                "idle": _duration(now - evaluation.last_activity_at),
                "left": _duration(due - now + timedelta(seconds=59)),
            }
        else:
            text = _("idle for %(idle)s, stopping now") % {
                "idle": _duration(now - evaluation.last_activity_at)
            }
    elif verdict == IdleVerdict.BLIND:
        what = (
            _("no GPU metrics")
            if evaluation.reason == "no_gpu_metrics"
            else _("WebUI not answering")
        )
        text = _("blind: %(what)s for %(duration)s") % {
            "what": what,
            "duration": _duration(now - (evaluation.missing_since or now)),
        }
    elif verdict == IdleVerdict.SNOOZED:
        snooze = (evaluation.signals or {}).get("snooze") or {}
        until = snooze.get("until")
        left = datetime.fromisoformat(until.replace("Z", "+00:00")) - now if until else timedelta()
        text = _("snoozed by %(user)s for %(duration)s more") % {
            "user": snooze.get("by") or _("someone"),
            "duration": _duration(left),
        }
    elif verdict == IdleVerdict.DISABLED:
        text = _("idle stop off")
    elif verdict == IdleVerdict.STOPPING:
        text = _("stopping: idle") if evaluation.reason == "idle" else _("stopping")
    else:
        text = _active_text(evaluation, now)
    if now - evaluation.evaluated_at > STALE_AFTER:
        text += " " + _("(checked %(duration)s ago)") % {
            "duration": _duration(now - evaluation.evaluated_at)
        }
    return {
        "state": verdict,
        "reason": evaluation.reason,
        "text": text,
        "idle_minutes": idle_minutes,
        "stops_in_minutes": stops_in,
        "last_activity_at": iso_time(evaluation.last_activity_at),
        "stop_due_at": iso_time(evaluation.stop_due_at),
        "missing_since": iso_time(evaluation.missing_since),
        "evaluated_at": iso_time(evaluation.evaluated_at),
    }
