"""Celery tasks of instances."""

from __future__ import annotations

from celery import shared_task

from instances.reconcile import reconcile_instances


@shared_task(name="instances.reconcile", ignore_result=True)
def reconcile() -> dict[str, object]:
    report = reconcile_instances()
    return {"checked": report.checked, "corrected": report.corrected, "errors": report.errors}


@shared_task(name="instances.collect_metrics", ignore_result=True)
def collect_metrics() -> dict[str, object]:
    from instances.metrics import collect_metrics as collect

    report = collect()
    return {"hosts": report.hosts, "calls": report.calls, "points": report.points}


@shared_task(name="instances.prune_metrics", ignore_result=True)
def prune_metrics() -> dict[str, int]:
    from instances.metrics import prune_metrics as prune

    report = prune()
    return {
        "hours_rolled_up": report.hours_rolled_up,
        "samples_deleted": report.samples_deleted,
        "hours_deleted": report.hours_deleted,
    }
