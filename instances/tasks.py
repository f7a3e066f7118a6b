"""Celery tasks of instances."""

from __future__ import annotations

from celery import shared_task

from instances.reconcile import reconcile_instances


@shared_task(name="instances.reconcile", ignore_result=True)
def reconcile() -> dict[str, object]:
    report = reconcile_instances()
    return {"checked": report.checked, "corrected": report.corrected, "errors": report.errors}
