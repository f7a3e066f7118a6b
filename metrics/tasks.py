"""Celery tasks of metrics: collect CloudMonitor points, roll up and prune."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="metrics.collect", ignore_result=True)
def collect_metrics() -> dict[str, object]:
    from metrics.collection import collect_metrics as collect

    report = collect()
    return {"hosts": report.hosts, "calls": report.calls, "points": report.points}


@shared_task(name="metrics.prune", ignore_result=True)
def prune_metrics() -> dict[str, int]:
    from metrics.collection import prune_metrics as prune

    report = prune()
    return {
        "hours_rolled_up": report.hours_rolled_up,
        "samples_deleted": report.samples_deleted,
        "hours_deleted": report.hours_deleted,
    }
