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
