"""Metrics and idle auto-stop at scale, against cloudsim.

1. ``collect_metrics`` for 10,000 running hosts: DescribeMetricList calls (floor: ceil(N/50) per
   metric), database queries and wall time, for the first collection (every minute since the
   hosts started) and for a steady-state minute.
2. ``evaluate_idle`` over the same 10,000 hosts in a steady state: 30 % of them busy (GPU load),
   the others idle for 0 to 20 minutes, plus a handful close to their warning and their stop.
   Database queries and wall time (target: constant, <= 2 s); the same run with 1,000 hosts
   shows the query count does not depend on N. The WebUI is asked only of hosts whose GPU,
   operations and snooze all say idle *and* that are within a minute of a warning or a stop;
   the figures say how many that was and how long it took. A worst case follows: 2,000 hosts
   in the warning zone at once, every one of them asked.
3. End to end: hosts with GPU load ending at different times, the beat jobs every simulated
   minute; each host must be stopped within idle minutes + 2 minutes of its last activity.

cloudsim runs at real speed and is moved with ``/_sim/clock``; the jobs get the sim's time as
``now`` (the control plane's clock is not moved here).
"""

from __future__ import annotations

import math
import os
import time
from datetime import UTC, datetime, timedelta

from harness import report, setup_django, start_cloudsim, workdir

HOSTS = int(os.environ.get("BENCH_IDLE_HOSTS", "10000"))
SMALL = max(1, HOSTS // 10)
BUSY_SHARE = 0.3
E2E_HOSTS = 6


def sim_now(sim) -> datetime:
    return datetime.fromtimestamp(sim.clock()["epoch_ms"] / 1000, tz=UTC)


def main() -> None:
    folder = workdir("idle")
    setup_django(folder)
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from fleet import build_fleet

    from instances.models import ServiceInstance
    from instances.services import webui_endpoint
    from metrics.collection import collect_metrics

    settings.NESTOPS_LOG_LEVEL = "WARNING"
    sim = start_cloudsim(folder / "cloudsim", speed=1.0)
    figures: dict[str, object] = {"hosts": HOSTS}
    try:
        _team, cloud_ids = build_fleet(sim, HOSTS)
        started = sim_now(sim)
        rows = list(ServiceInstance.objects.all())
        for instance in rows:
            instance.webui_endpoint = webui_endpoint(instance)
            instance.running_since = started
            instance.status_changed_at = started
        ServiceInstance.objects.bulk_update(
            rows, ["webui_endpoint", "running_since", "status_changed_at"], batch_size=500
        )
        busy = cloud_ids[: int(HOSTS * BUSY_SHARE)]
        for cloud_id in busy:
            sim.load(cloud_id, gpu=85, seconds=3 * 3600)

        # 1. Collection.
        sim.advance(11 * 60)
        sim.reset_calls()
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            first = collect_metrics(now=sim_now(sim))
            first_seconds = time.perf_counter() - began
        first_calls = sim.calls().get("Cms.DescribeMetricList", 0)
        sim.advance(60)
        sim.reset_calls()
        with CaptureQueriesContext(connection) as steady_queries:
            began = time.perf_counter()
            steady = collect_metrics(now=sim_now(sim))
            steady_seconds = time.perf_counter() - began
        steady_calls = sim.calls().get("Cms.DescribeMetricList", 0)
        figures.update(
            {
                "collect_calls_per_metric_floor": math.ceil(HOSTS / 50),
                "collect_first_calls": first_calls,
                "collect_first_points": first.points,
                "collect_first_queries": len(queries),
                "collect_first_seconds": first_seconds,
                "collect_steady_calls": steady_calls,
                "collect_steady_points": steady.points,
                "collect_steady_queries": len(steady_queries),
                "collect_steady_seconds": steady_seconds,
            }
        )
        assert first_calls == steady_calls == 5 * math.ceil(HOSTS / 50), (first_calls, steady_calls)
        assert not first.errors and not steady.errors

        # 2. Evaluation.
        figures.update(evaluate_at_scale(sim, rows, busy))
    finally:
        sim.stop()
    # 3. End to end, on a cloudsim of its own.
    figures.update(end_to_end(folder))
    report(
        "bench_idle",
        figures,
        "SQLite unless BENCH_DATABASE_URL; cloudsim and the control plane on one machine; "
        "WebUIs are cloudsim's, asked over HTTP with 16 at a time",
    )


def seed_evaluations(rows, busy_ids: set[str], now: datetime, near: dict[int, float]) -> None:
    """The state a running job leaves: every host evaluated a minute ago, idle ones idle for
    0-20 minutes, and ``near`` (pk -> minutes idle) close to their warning or stop."""
    from autostop.idle import EVALUATION_COLUMNS
    from autostop.models import IdleEvaluation
    from nestops import bulk

    IdleEvaluation.objects.all().delete()
    values = []
    for n, instance in enumerate(rows):
        if instance.cloud_instance_id in busy_ids:
            idle = 0.0
        else:
            idle = near.get(instance.pk, (n % 20) + 0.5)
        last = now - timedelta(minutes=idle)
        values.append(
            (instance.pk, now - timedelta(minutes=1), "idle", "idle", last, None, None, {})
        )
    bulk.upsert(
        IdleEvaluation,
        EVALUATION_COLUMNS,
        values,
        conflict=("instance",),
        update=EVALUATION_COLUMNS[1:],
    )


def evaluate_at_scale(sim, rows, busy: list[str]) -> dict[str, object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from autostop.idle import evaluate_idle
    from operations.models import Operation

    busy_ids = set(busy)
    idle_rows = [r for r in rows if r.cloud_instance_id not in busy_ids]
    figures: dict[str, object] = {}
    now = sim_now(sim)

    from instances.models import ServiceInstance, Status

    def run(label: str, subset, near: dict[int, float]) -> None:
        Operation.objects.all().delete()
        # In the steady state the hosts have been up for a while: the idle clock is the
        # seeded one.
        ServiceInstance.objects.update(running_since=now - timedelta(hours=2))
        ServiceInstance.objects.exclude(pk__in=[r.pk for r in subset]).update(status=Status.STOPPED)
        ServiceInstance.objects.filter(pk__in=[r.pk for r in subset]).update(status=Status.RUNNING)
        seed_evaluations(subset, busy_ids, now, near)
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            result = evaluate_idle(now=now)
            seconds = time.perf_counter() - began
        figures.update(
            {
                f"{label}_hosts": result.evaluated,
                f"{label}_queries": len(queries),
                f"{label}_seconds": seconds,
                f"{label}_webui_asked": result.webui_asked,
                f"{label}_webui_not_asked": result.webui_not_asked,
                f"{label}_warned": len(result.warned),
                f"{label}_stopped": len(result.stopped),
                f"{label}_verdicts": dict(result.verdicts),
            }
        )

    # Ten hosts due for a warning, ten due for a stop, ten asked but not yet due.
    def near_for(subset) -> dict[int, float]:
        idle = [r for r in subset if r.cloud_instance_id not in busy_ids]
        near = {r.pk: 26.0 for r in idle[:10]}
        near.update({r.pk: 31.0 for r in idle[10:20]})
        near.update({r.pk: 24.5 for r in idle[20:30]})
        return near

    small = rows[:: max(1, len(rows) // SMALL)][:SMALL]
    run("evaluate_small", small, near_for(small))
    run("evaluate", rows, near_for(rows))
    worst = {r.pk: 24.5 for r in idle_rows[:2000]}
    run("evaluate_2000_asked", rows, worst)
    figures["evaluate_queries_per_action"] = (
        "warning: 3 (claim + channels + delivery), stop: request_operation + 4"
    )
    return figures


def end_to_end(folder) -> dict[str, object]:
    """GPU load on a few hosts ending 0-25 minutes into the run; beat every simulated minute;
    how long after its last activity each host was stopped (sim time)."""
    from django.conf import settings
    from fleet import build_fleet

    from autostop.idle import evaluate_idle
    from instances.models import ServiceInstance, Status
    from instances.services import webui_endpoint
    from metrics.collection import collect_metrics
    from operations import runner
    from operations.models import Operation

    settings.NESTOPS_POLL_SECONDS = 0.05
    ServiceInstance.objects.all().delete()
    sim = start_cloudsim(folder / "cloudsim-e2e", speed=1.0)
    try:
        _team, cloud_ids = build_fleet(sim, E2E_HOSTS, team_slug="e2e")
        started = sim_now(sim)
        rows = list(ServiceInstance.objects.filter(cloud_instance_id__in=cloud_ids))
        for instance in rows:
            instance.webui_endpoint = webui_endpoint(instance)
            instance.running_since = started
            instance.status_changed_at = started
            instance.save()
        last_activity: dict[str, datetime] = {}
        for n, cloud_id in enumerate(cloud_ids):
            seconds = 300 * n + 90
            sim.load(cloud_id, gpu=90, seconds=seconds)
            last_activity[cloud_id] = started + timedelta(seconds=seconds)
        stopped_at: dict[str, datetime] = {}
        minutes = 0
        while len(stopped_at) < len(rows) and minutes < 90:
            sim.advance(60)
            minutes += 1
            now = sim_now(sim)
            collect_metrics(now=now)
            for public_id in evaluate_idle(now=now).stopped:
                instance = ServiceInstance.objects.get(public_id=public_id)
                stopped_at[instance.cloud_instance_id] = now
                operation = Operation.objects.get(instance=instance, kind="stop")
                while operation.status in ("pending", "running"):
                    Operation.objects.filter(pk=operation.pk).update(lease_until=None)
                    runner.advance(operation.pk)
                    sim.advance(2)
                    operation.refresh_from_db()
                assert operation.status == "succeeded", operation.log
        for instance in rows:
            instance.refresh_from_db()
            assert instance.status == Status.STOPPED, instance.public_id
        delays = [
            (stopped_at[cloud_id] - last_activity[cloud_id]).total_seconds() / 60
            for cloud_id in cloud_ids
        ]
    finally:
        sim.stop()
    window = settings.NESTOPS_IDLE_MINUTES
    assert max(delays) <= window + 2, delays
    return {
        "e2e_hosts": E2E_HOSTS,
        "e2e_idle_minutes": window,
        "e2e_stop_after_last_activity_min_minutes": round(min(delays), 2),
        "e2e_stop_after_last_activity_max_minutes": round(max(delays), 2),
    }


if __name__ == "__main__":
    main()
