"""Celery tasks of the nestops package."""

from __future__ import annotations

from celery import shared_task

from nestops import notifications


@shared_task(name="nestops.deliver_notification", ignore_result=True)
def deliver_notification(delivery_id: int) -> None:
    notifications.deliver(delivery_id)


@shared_task(name="nestops.deliver_due_notifications", ignore_result=True)
def deliver_due_notifications() -> int:
    return notifications.deliver_due()
