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

What counts as activity is read in ``autostop.idle_activity``, each host is judged in
``autostop.idle_assessment`` and acted on in ``autostop.idle_actions``; this module is the run.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from autostop import idle_actions, idle_activity, idle_assessment, webui_poll
from autostop.idle_actions import IdleReport
from autostop.models import IdleEvaluation
from autostop.selectors import effective_policy, related
from instances.models import ServiceInstance
from nestops import bulk
from webgateway.selectors import last_webui_uses

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


def evaluate_idle(now: datetime | None = None) -> IdleReport:
    now = now or timezone.now()
    report = IdleReport()
    instances = idle_activity.running_instances()
    looked_from = idle_activity.lookback_start(instances, now)
    policies = {
        i.pk: effective_policy(i, related(i, "idle_policy"), related(i.team, "idle_settings"))
        for i in instances
    }
    gpu = idle_activity.gpu_series(looked_from, {pk: p.gpu_threshold for pk, p in policies.items()})
    operations = idle_activity.active_operations()
    snoozes, snoozes_ended = idle_activity.snoozes(now, looked_from)
    assessments = [
        idle_assessment.assess(
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
        idle_assessment.conclude(a, now)
        report.verdicts[a.verdict] = report.verdicts.get(a.verdict, 0) + 1
    report.evaluated = len(assessments)
    bulk.upsert(
        IdleEvaluation,
        EVALUATION_COLUMNS,
        (idle_assessment.evaluation_row(a, now) for a in assessments),
        conflict=("instance",),
        update=EVALUATION_COLUMNS[1:],
    )
    for a in assessments:
        idle_actions.act(a, now, report)
    idle_actions.delete_long_stopped(now, operations, report)
    return report


def _ask_webuis(
    assessments: list[idle_assessment.Assessment], now: datetime, report: IdleReport
) -> None:
    wanted = sorted(
        (a for a in assessments if idle_assessment.wants_webui(a, now)),
        key=lambda a: idle_assessment.urgency(a, now),
        reverse=True,
    )
    if not wanted:
        return
    credentials = {
        i.pk: i
        # The host's pinned certificate comes along: the poll's threads never query.
        for i in ServiceInstance.objects.filter(pk__in=[a.instance.pk for a in wanted])
        .select_related("webui_certificate")
        .only(
            "id",
            "public_id",
            "webui_endpoint",
            "webui_user",
            "webui_password",
            "webui_certificate__pem",
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
