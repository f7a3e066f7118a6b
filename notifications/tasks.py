"""Celery tasks of notifications: thin wrappers around the delivery service."""

from __future__ import annotations

from celery import shared_task

from notifications import services


@shared_task(name="notifications.deliver", ignore_result=True)
def deliver_notification(delivery_id: int) -> None:
    services.deliver(delivery_id)


@shared_task(name="notifications.deliver_due", ignore_result=True)
def deliver_due_notifications() -> int:
    return services.deliver_due()
