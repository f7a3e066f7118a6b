"""Celery tasks of operations: thin wrappers around the runner."""

from __future__ import annotations

from celery import shared_task

from operations import runner


@shared_task(name="operations.advance", ignore_result=True)
def advance(operation_id: int) -> None:
    runner.advance(operation_id)


@shared_task(name="operations.dispatch_due", ignore_result=True)
def dispatch_due() -> int:
    return runner.dispatch_due()


@shared_task(name="operations.evaluate_idle", ignore_result=True)
def evaluate_idle() -> dict[str, object]:
    from operations.idle import evaluate_idle as evaluate

    report = evaluate()
    return {"evaluated": report.evaluated, "stopped": report.stopped, "warned": report.warned}


@shared_task(name="operations.apply_schedules", ignore_result=True)
def apply_schedules() -> dict[str, object]:
    from operations.schedules import apply_schedules as apply

    report = apply()
    return {"started": report.started, "stopped": report.stopped, "failed": report.failed}
