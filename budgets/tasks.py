"""Celery tasks of budgets."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from budgets import checks as budgets


@shared_task(name="budgets.check", ignore_result=True)
def check_budgets() -> dict[str, Any]:
    report = budgets.check_budgets()
    return {"checked": report.checked, "fired": report.fired, "stopped": report.stopped}
