"""Celery tasks of budgets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import shared_task
from django.utils import timezone

from budgets import checks as budgets

# How often beat runs the check (nestops/beat.py); a crossing sooner than that gets a run of
# its own at that moment.
SWEEP_SECONDS = 60


@shared_task(name="budgets.check", ignore_result=True)
def check_budgets() -> dict[str, Any]:
    report = budgets.check_budgets()
    due = report.next_check_at
    if due is not None and due <= timezone.now() + timedelta(seconds=SWEEP_SECONDS):
        check_budgets.apply_async(eta=due)
    return {
        "checked": report.checked,
        "fired": report.fired,
        "stopped": report.stopped,
        "next_check_at": due.isoformat() if due else None,
    }
