"""Is this host idle, and why: one host's signals folded into the idle clock
(``last_activity``), the WebUI asked only when an action is close, and a verdict with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from autostop import idle_activity, webui_poll
from autostop.models import IdleEvaluation, IdleVerdict, Snooze
from autostop.selectors import EffectivePolicy, related
from instances.models import ServiceInstance
from nestops.times import iso_time

# Ask the WebUI of hosts this close to their warning or stop.
ASK_AHEAD = timedelta(minutes=1)


@dataclass
class Assessment:
    """One host in one run: its signals, the idle clock and what to do."""

    instance: ServiceInstance
    policy: EffectivePolicy
    previous: IdleEvaluation | None
    anchor: datetime
    gpu: dict[str, Any]
    gpu_missing_since: datetime | None
    gpu_busy_now: bool
    operations: list[dict[str, str]]
    snooze: Snooze | None
    last_activity: datetime
    webui: webui_poll.WebUIAnswer | None = None
    webui_missing_since: datetime | None = None
    # The newest use of the WebUI through the gateway (a generation, an upload, an open queue).
    gateway_used_at: datetime | None = None
    verdict: str = IdleVerdict.IDLE
    reason: str = ""
    missing_since: datetime | None = None

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.policy.idle_minutes)

    @property
    def cheap_signals_idle(self) -> bool:
        return not (self.operations or self.snooze or self.gpu_busy_now or self.gpu_missing_since)

    def running_for(self, now: datetime) -> timedelta:
        return now - (self.instance.running_since or self.instance.status_changed_at)

    def max_run_due(self) -> datetime | None:
        hours = self.policy.max_running_hours
        if not hours:
            return None
        return (self.instance.running_since or self.instance.status_changed_at) + timedelta(
            hours=hours
        )


def assess(
    instance: ServiceInstance,
    policy: EffectivePolicy,
    now: datetime,
    looked_from: datetime,
    gpu: idle_activity.GpuSeries | None,
    operations: list[dict[str, str]],
    snooze: Snooze | None,
    snooze_ended: datetime | None,
) -> Assessment:
    previous = related(instance, "idle_evaluation")
    started = instance.running_since or instance.status_changed_at
    # The idle clock starts when the host (last) started; a stretch the job did not look at
    # (first run, or the job was down longer than its look-back) counts as activity.
    anchor = started
    continuing = previous is not None and previous.evaluated_at >= looked_from
    if continuing and previous.last_activity_at:
        anchor = max(anchor, previous.last_activity_at)
    elif not continuing:
        anchor = max(anchor, looked_from)
    earlier = ((previous.signals or {}).get("gpu") or {}) if continuing and previous else {}
    reading = _read_gpu(
        gpu,
        policy.gpu_threshold,
        now=now,
        started=started,
        earlier_missing=idle_activity.parse_time(earlier.get("missing_since")),
    )
    last_activity = anchor
    if reading.busy_until is not None:
        last_activity = max(last_activity, reading.busy_until)
    if reading.missing_since is not None:
        last_activity = now
    if operations or snooze is not None:
        last_activity = now
    elif snooze_ended is not None:
        last_activity = max(last_activity, snooze_ended)
    return Assessment(
        instance=instance,
        policy=policy,
        previous=previous,
        anchor=anchor,
        gpu=reading.signal,
        gpu_missing_since=reading.missing_since,
        gpu_busy_now=reading.busy_now,
        operations=operations,
        snooze=snooze,
        last_activity=last_activity,
    )


@dataclass
class GpuReading:
    """The GPU signal of one host: what is recorded, and what it says about activity."""

    signal: dict[str, Any]
    missing_since: datetime | None = None
    busy_now: bool = False
    busy_until: datetime | None = None


def _read_gpu(
    gpu: idle_activity.GpuSeries | None,
    threshold: float,
    *,
    now: datetime,
    started: datetime,
    earlier_missing: datetime | None,
) -> GpuReading:
    stale = timedelta(minutes=settings.NESTOPS_IDLE_METRICS_STALE_MINUTES)
    reading = GpuReading(signal={"threshold": threshold})
    signal = reading.signal
    if gpu is not None:
        latest_end = datetime.fromtimestamp((gpu.latest_ms / 1000) + 60, tz=now.tzinfo)
        signal.update(
            latest_at=iso_time(latest_end - idle_activity.MINUTE),
            value=round(gpu.latest_value, 2),
            peak=round(gpu.peak, 2),
        )
        if gpu.busy_ms is not None:
            busy_end = datetime.fromtimestamp((gpu.busy_ms / 1000) + 60, tz=now.tzinfo)
            signal["busy_until"] = iso_time(busy_end)
            reading.busy_until = min(busy_end, now)
        if latest_end < now - stale:
            reading.missing_since = max(latest_end, started)
        else:
            reading.busy_now = gpu.busy_ms == gpu.latest_ms
    else:
        reading.missing_since = started
    if reading.missing_since is not None:
        # A gap that continues from the previous run keeps its start.
        if earlier_missing is not None and earlier_missing >= started:
            reading.missing_since = min(reading.missing_since, earlier_missing)
        signal["state"] = "missing"
        signal["missing_since"] = iso_time(reading.missing_since)
    else:
        signal["state"] = "busy" if reading.busy_now else "idle"
    return reading


def wants_webui(a: Assessment, now: datetime) -> bool:
    """Ask the WebUI only when cheaper signals all say idle and an action is close (or the
    WebUI was not answering: then every run, so that a blind host is noticed in time)."""
    if a.operations or a.snooze is not None:
        return False
    max_run_due = a.max_run_due()
    warning = timedelta(minutes=a.policy.warning_minutes)
    if max_run_due is not None and now >= max_run_due - warning - ASK_AHEAD:
        return True
    if not a.policy.enabled or not a.cheap_signals_idle:
        return False
    earlier = ((a.previous.signals or {}).get("webui") or {}) if a.previous else {}
    if earlier.get("state") == "unreachable":
        return True
    return now - a.last_activity >= a.window - warning - ASK_AHEAD


def urgency(a: Assessment, now: datetime) -> timedelta:
    return (now - a.last_activity) - a.window


def conclude(a: Assessment, now: datetime) -> None:
    """Folds the WebUI's answer in and decides the verdict."""
    answer = a.webui
    if answer is not None and answer.busy:
        a.last_activity = now
    if answer is not None and answer.state == "unreachable":
        earlier_webui = ((a.previous.signals or {}).get("webui") or {}) if a.previous else {}
        earlier = idle_activity.parse_time(earlier_webui.get("missing_since"))
        started = a.instance.running_since or a.instance.status_changed_at
        a.webui_missing_since = earlier if earlier and earlier >= started else now
        a.last_activity = now
    missing = [m for m in (a.gpu_missing_since, a.webui_missing_since) if m is not None]
    a.missing_since = min(missing) if missing else None
    blind = a.missing_since is not None and now - a.missing_since >= a.window
    if not a.policy.enabled:
        a.verdict, a.reason = IdleVerdict.DISABLED, "disabled"
    elif a.operations:
        a.verdict, a.reason = IdleVerdict.ACTIVE, "operation"
    elif a.snooze is not None:
        a.verdict, a.reason = IdleVerdict.SNOOZED, "snoozed"
    elif blind:
        a.verdict = IdleVerdict.BLIND
        a.reason = "no_gpu_metrics" if a.gpu_missing_since else "webui_unreachable"
    elif answer is not None and answer.busy:
        a.verdict, a.reason = IdleVerdict.ACTIVE, answer.state
    elif a.gpu_busy_now:
        a.verdict, a.reason = IdleVerdict.ACTIVE, "gpu"
    elif a.gpu_missing_since is not None:
        a.verdict, a.reason = IdleVerdict.ACTIVE, "no_gpu_metrics"
    elif a.webui_missing_since is not None:
        a.verdict, a.reason = IdleVerdict.ACTIVE, "webui_unreachable"
    else:
        a.verdict, a.reason = IdleVerdict.IDLE, "idle"


def recorded_signals(a: Assessment, now: datetime) -> dict[str, Any]:
    webui: dict[str, Any]
    if a.webui is not None:
        webui = a.webui.as_dict()
        if a.webui_missing_since is not None:
            webui["missing_since"] = iso_time(a.webui_missing_since)
    else:
        webui = {"state": "not_asked"}
    found: dict[str, Any] = {
        "gpu": a.gpu,
        "webui": webui,
        "operations": a.operations,
        "policy": {
            "enabled": a.policy.enabled,
            "idle_minutes": a.policy.idle_minutes,
            "warning_minutes": a.policy.warning_minutes,
            "enforced_max_idle_minutes": a.policy.enforced_max_idle_minutes,
            "stop_mode": a.policy.stop_mode,
        },
        "running_since": iso_time(a.instance.running_since or a.instance.status_changed_at),
    }
    if a.gateway_used_at is not None:
        found["gateway"] = {"last_used_at": iso_time(a.gateway_used_at)}
    if a.snooze is not None:
        found["snooze"] = {
            "until": iso_time(a.snooze.until),
            "by": a.snooze.created_by.username if a.snooze.created_by_id else None,
        }
    due = a.max_run_due()
    if due is not None:
        found["max_running_until"] = iso_time(due)
    return found


def evaluation_row(a: Assessment, now: datetime) -> tuple[Any, ...]:
    stop_due = a.last_activity + a.window if a.verdict == IdleVerdict.IDLE else None
    return (
        a.instance.pk,
        now,
        a.verdict,
        a.reason,
        a.last_activity,
        stop_due,
        a.missing_since,
        recorded_signals(a, now),
    )
