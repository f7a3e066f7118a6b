"""``evaluate_idle`` (beat, every 60 s): stop hosts nobody uses, and say why.

A host is idle only when every signal says so:

- GPU utilisation (CloudMonitor, ``MetricSample``) stayed under the policy's threshold;
- its WebUI (``/sdapi/v1/progress``, with the host's credentials) runs and queues no job;
- no operation of any kind is under way on it (a model download is activity);
- nobody snoozed it.

A signal that cannot be read counts as activity: no fresh GPU point, a WebUI that does not
answer. When that lasts longer than the idle window the host is *blind*: it is never stopped,
and the team is told once (``idle.blind``) instead of the host silently running forever.

``last_activity_at`` is the idle clock: the newest moment a signal showed activity. Each run
reads everything in a constant number of queries (running hosts with policy, team settings and
last evaluation; GPU points since the last run; active operations; snoozes), asks the WebUI
only of hosts close to a warning or a stop, whose cheaper signals all say idle (bounded
concurrency, timeout and time budget), stores one evaluation row per host in one statement,
then acts on the few hosts due: a warning once per idle stretch, ``N`` minutes before the
stop, and at most one stop (source ``idle_policy``, never on a host with an operation under
way; a refusal is recorded and skipped).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from autostop import webui_poll
from autostop.models import IdleEvaluation, IdleVerdict, Snooze
from autostop.policy import POLICY_FIELDS, EffectivePolicy, effective_policy, related
from instances.models import ServiceInstance, Status
from instances.serializers import iso_time
from metrics.models import Metric, MetricSample
from nestops import bulk
from notifications.services import notify
from operations.models import Kind, Operation, Source
from operations.services import OperationRefused, request_operation
from webgateway.selectors import last_webui_uses

logger = logging.getLogger("nestops.idle")

MINUTE = timedelta(minutes=1)
# GPU points are read back this far at least, and at most this far (a long outage of the job
# is covered by treating what it did not see as activity).
LOOKBACK_MIN = timedelta(minutes=10)
LOOKBACK_MAX = timedelta(minutes=120)
# Ask the WebUI of hosts this close to their warning or stop.
ASK_AHEAD = timedelta(minutes=1)
EVALUATION_COLUMNS = (
    "instance",
    "evaluated_at",
    "verdict",
    "reason",
    "last_activity_at",
    "stop_due_at",
    "missing_since",
    "signals",
)


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


@dataclass
class GpuSeries:
    latest_ms: int
    latest_value: float
    peak: float
    busy_ms: int | None


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


# --- reading -----------------------------------------------------------------------------------


def _running_instances() -> list[ServiceInstance]:
    return list(
        ServiceInstance.objects.filter(status=Status.RUNNING)
        .exclude(cloud_instance_id="")
        .select_related("team", "team__idle_settings", "idle_policy", "idle_evaluation")
        # Only what the judgement needs: 10,000 rows of every column cost more than the rest of
        # the run. Passwords in particular are decrypted on load: they are read only for the
        # hosts whose WebUI is asked.
        .only(
            "id",
            "public_id",
            "name",
            "status",
            "charge_type",
            "running_since",
            "status_changed_at",
            "team__id",
            "team__name",
            "team__slug",
            *(
                f"team__idle_settings__{f}"
                for f in ("team_id", "max_idle_minutes", "max_snooze_hours")
            ),
            *(f"idle_policy__{f}" for f in ("instance_id", *POLICY_FIELDS)),
            *(
                f"idle_evaluation__{f}"
                for f in ("instance_id", "evaluated_at", "last_activity_at", "signals")
            ),
        )
    )


def _gpu_series(since: datetime, thresholds: dict[int, float]) -> dict[int, GpuSeries]:
    since_ms = int(since.timestamp() * 1000)
    found: dict[int, GpuSeries] = {}
    rows = (
        MetricSample.objects.filter(metric=Metric.GPU, timestamp__gte=since_ms)
        .order_by()
        .values_list("instance_id", "timestamp", "average")
    )
    for instance_id, timestamp, average in rows.iterator(chunk_size=20000):
        threshold = thresholds.get(instance_id)
        if threshold is None:
            continue
        series = found.get(instance_id)
        if series is None:
            series = found[instance_id] = GpuSeries(timestamp, average, average, None)
        elif timestamp > series.latest_ms:
            series.latest_ms, series.latest_value = timestamp, average
        series.peak = max(series.peak, average)
        if average >= threshold and (series.busy_ms is None or timestamp > series.busy_ms):
            series.busy_ms = timestamp
    return found


def _active_operations() -> dict[int, list[dict[str, str]]]:
    found: dict[int, list[dict[str, str]]] = defaultdict(list)
    for instance_id, public_id, kind in (
        Operation.objects.active().order_by().values_list("instance_id", "public_id", "kind")
    ):
        found[instance_id].append({"id": public_id, "kind": kind})
    return found


def _snoozes(now: datetime, looked_from: datetime) -> tuple[dict[int, Snooze], dict[int, datetime]]:
    """Snoozes running now, and when snoozes that ended since ``looked_from`` ended: a snooze
    is activity until its end (or until it was cancelled)."""
    running: dict[int, Snooze] = {}
    ended: dict[int, datetime] = {}
    for snooze in Snooze.objects.filter(until__gt=looked_from).select_related("created_by"):
        end = min(snooze.until, snooze.cancelled_at or snooze.until)
        if end > now:
            held = running.get(snooze.instance_id)
            if held is None or snooze.until > held.until:
                running[snooze.instance_id] = snooze
        elif end > looked_from:
            ended[snooze.instance_id] = max(end, ended.get(snooze.instance_id, end))
    return running, ended


def _lookback_start(instances: list[ServiceInstance], now: datetime) -> datetime:
    """Where this run starts reading GPU points: back to the oldest moment some host has not
    been looked at since it started (its last evaluation, or its start), plus the minutes
    CloudMonitor publishes late; at least ``LOOKBACK_MIN``, at most ``LOOKBACK_MAX``."""
    stale = timedelta(minutes=settings.NESTOPS_IDLE_METRICS_STALE_MINUTES)
    oldest = now
    for instance in instances:
        started = instance.running_since or instance.status_changed_at
        previous = related(instance, "idle_evaluation")
        seen = previous.evaluated_at if previous is not None else started
        oldest = min(oldest, max(seen, started))
    span = min(max(now - oldest + 2 * stale, LOOKBACK_MIN), LOOKBACK_MAX)
    return now - span


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


# --- assessing ---------------------------------------------------------------------------------


def _assess(
    instance: ServiceInstance,
    policy: EffectivePolicy,
    now: datetime,
    looked_from: datetime,
    gpu: GpuSeries | None,
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
    last_activity = anchor
    stale = timedelta(minutes=settings.NESTOPS_IDLE_METRICS_STALE_MINUTES)
    signal: dict[str, Any] = {"threshold": policy.gpu_threshold}
    gpu_missing_since: datetime | None = None
    gpu_busy_now = False
    if gpu is not None:
        latest_end = datetime.fromtimestamp((gpu.latest_ms / 1000) + 60, tz=now.tzinfo)
        signal.update(
            latest_at=iso_time(latest_end - MINUTE),
            value=round(gpu.latest_value, 2),
            peak=round(gpu.peak, 2),
        )
        if gpu.busy_ms is not None:
            busy_end = datetime.fromtimestamp((gpu.busy_ms / 1000) + 60, tz=now.tzinfo)
            signal["busy_until"] = iso_time(busy_end)
            last_activity = max(last_activity, min(busy_end, now))
        if latest_end < now - stale:
            gpu_missing_since = max(latest_end, started)
        else:
            gpu_busy_now = gpu.busy_ms == gpu.latest_ms
    else:
        gpu_missing_since = started
    if gpu_missing_since is not None:
        earlier = (
            _parse_time(((previous.signals or {}).get("gpu") or {}).get("missing_since"))
            if continuing and previous is not None
            else None
        )
        if earlier is not None and earlier >= started:
            gpu_missing_since = min(gpu_missing_since, earlier)
        signal["state"] = "missing"
        signal["missing_since"] = iso_time(gpu_missing_since)
        last_activity = now
    else:
        signal["state"] = "busy" if gpu_busy_now else "idle"
    if operations or snooze is not None:
        last_activity = now
    elif snooze_ended is not None:
        last_activity = max(last_activity, snooze_ended)
    return Assessment(
        instance=instance,
        policy=policy,
        previous=previous,
        anchor=anchor,
        gpu=signal,
        gpu_missing_since=gpu_missing_since,
        gpu_busy_now=gpu_busy_now,
        operations=operations,
        snooze=snooze,
        last_activity=last_activity,
    )


def _wants_webui(a: Assessment, now: datetime) -> bool:
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


def _urgency(a: Assessment, now: datetime) -> timedelta:
    return (now - a.last_activity) - a.window


def _conclude(a: Assessment, now: datetime) -> None:
    """Folds the WebUI's answer in and decides the verdict."""
    answer = a.webui
    if answer is not None and answer.busy:
        a.last_activity = now
    if answer is not None and answer.state == "unreachable":
        earlier_webui = ((a.previous.signals or {}).get("webui") or {}) if a.previous else {}
        earlier = _parse_time(earlier_webui.get("missing_since"))
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


def _signals(a: Assessment, now: datetime) -> dict[str, Any]:
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


def _row(a: Assessment, now: datetime) -> tuple[Any, ...]:
    stop_due = a.last_activity + a.window if a.verdict == IdleVerdict.IDLE else None
    return (
        a.instance.pk,
        now,
        a.verdict,
        a.reason,
        a.last_activity,
        stop_due,
        a.missing_since,
        _signals(a, now),
    )


# --- the job -----------------------------------------------------------------------------------


def evaluate_idle(now: datetime | None = None) -> IdleReport:
    now = now or timezone.now()
    report = IdleReport()
    instances = _running_instances()
    looked_from = _lookback_start(instances, now)
    policies = {
        i.pk: effective_policy(i, related(i, "idle_policy"), related(i.team, "idle_settings"))
        for i in instances
    }
    gpu = _gpu_series(looked_from, {pk: p.gpu_threshold for pk, p in policies.items()})
    operations = _active_operations()
    snoozes, snoozes_ended = _snoozes(now, looked_from)
    assessments = [
        _assess(
            i,
            policies[i.pk],
            now,
            looked_from,
            gpu.get(i.pk),
            operations.get(i.pk, []),
            snoozes.get(i.pk),
            snoozes_ended.get(i.pk),
        )
        for i in instances
    ]
    gateway_uses = last_webui_uses(since=looked_from)
    for a in assessments:
        if (used := gateway_uses.get(a.instance.pk)) is not None:
            a.gateway_used_at = used
            a.last_activity = max(a.last_activity, min(used, now))
    _ask_webuis(assessments, now, report)
    for a in assessments:
        _conclude(a, now)
        report.verdicts[a.verdict] = report.verdicts.get(a.verdict, 0) + 1
    report.evaluated = len(assessments)
    bulk.upsert(
        IdleEvaluation,
        EVALUATION_COLUMNS,
        (_row(a, now) for a in assessments),
        conflict=("instance",),
        update=EVALUATION_COLUMNS[1:],
    )
    for a in assessments:
        _act(a, now, report)
    _delete_long_stopped(now, operations, report)
    return report


def _ask_webuis(assessments: list[Assessment], now: datetime, report: IdleReport) -> None:
    wanted = sorted(
        (a for a in assessments if _wants_webui(a, now)),
        key=lambda a: _urgency(a, now),
        reverse=True,
    )
    if not wanted:
        return
    credentials = {
        i.pk: i
        for i in ServiceInstance.objects.filter(pk__in=[a.instance.pk for a in wanted]).only(
            "id", "public_id", "webui_endpoint", "webui_user", "webui_password"
        )
    }
    answers = webui_poll.poll(
        [credentials[a.instance.pk] for a in wanted if a.instance.pk in credentials],
        concurrency=settings.NESTOPS_IDLE_WEBUI_CONCURRENCY,
        timeout=settings.NESTOPS_IDLE_WEBUI_TIMEOUT_SECONDS,
        budget=settings.NESTOPS_IDLE_WEBUI_BUDGET_SECONDS,
    )
    for a in wanted:
        a.webui = answers.get(a.instance.pk)
        if a.webui is not None and a.webui.state == "not_asked":
            report.webui_not_asked += 1
        elif a.webui is not None:
            report.webui_asked += 1


# --- acting ------------------------------------------------------------------------------------


def _describe_host(instance: ServiceInstance) -> dict[str, str]:
    return {"instance": instance.public_id, "name": instance.name}


def _act(a: Assessment, now: datetime, report: IdleReport) -> None:
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


def _warn(a: Assessment, now: datetime, report: IdleReport) -> None:
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


def _warn_max_run(a: Assessment, now: datetime, due: datetime, report: IdleReport) -> None:
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


def _notify_blind(a: Assessment, now: datetime, report: IdleReport) -> None:
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


def _why(a: Assessment, now: datetime, reason: str) -> str:
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


def _stop(a: Assessment, now: datetime, report: IdleReport, *, reason: str) -> None:
    instance = a.instance
    why = _why(a, now, reason)
    try:
        operation, _created = request_operation(
            instance=instance,
            kind=Kind.STOP,
            params={
                "mode": a.policy.stop_mode,
                "reason": reason,
                "why": why,
                "signals": _signals(a, now),
            },
            actor=None,
            source=Source.IDLE_POLICY,
        )
    except OperationRefused as exc:
        # Someone started an operation or changed the host since we read it: not an error.
        report.refused[instance.public_id] = exc.code
        logger.info("idle stop of %s refused: %s", instance.public_id, exc.code)
        return
    with transaction.atomic():
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
    report.stopped.append(instance.public_id)
    logger.info("idle policy stops %s: %s (%s)", instance.public_id, why, operation.public_id)


def _delete_long_stopped(
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
            actor=None,
            source=Source.IDLE_POLICY,
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
