"""Celery tasks of billing: thin wrappers around one service each."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from billing import services


@shared_task(name="billing.refresh_prices", ignore_result=True)
def refresh_prices() -> dict[str, Any]:
    report = services.refresh_prices()
    return {
        "keys": report.keys,
        "describe_price_calls": report.describe_price_calls,
        "failed": report.failed,
        "repriced": report.repriced,
    }
