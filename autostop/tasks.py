"""Celery tasks of auto-stop: the idle evaluation and the schedules."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="autostop.evaluate_idle", ignore_result=True)
def evaluate_idle() -> dict[str, object]:
    from autostop.idle import evaluate_idle as evaluate

    report = evaluate()
    return {"evaluated": report.evaluated, "stopped": report.stopped, "warned": report.warned}


@shared_task(name="autostop.apply_schedules", ignore_result=True)
def apply_schedules() -> dict[str, object]:
    from autostop.schedules import apply_schedules as apply

    report = apply()
    return {"started": report.started, "stopped": report.stopped, "failed": report.failed}
