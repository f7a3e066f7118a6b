"""Notifications: ``notify()`` writes one delivery per interested channel of a team, and a
Celery task sends each one (email or webhook), retrying with backoff and logging every attempt.

Any part of nestops that has news for a team (a budget threshold, an idle host about to be
stopped, a schedule that started a host) calls ``notify()`` inside its transaction; nothing is
sent unless that transaction commits.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from nestops.backoff import backoff_seconds
from notifications import webhooks
from notifications.models import (
    ChannelKind,
    DeliveryStatus,
    NotificationChannel,
    NotificationDelivery,
    WebhookFormat,
)

logger = logging.getLogger("notifications.services")

# Every event a channel can subscribe to; parts of nestops that notify add theirs here.
EVENTS: dict[str, Any] = {
    "test": _("Test message"),
    "operation.failed": _("An operation failed"),
    "budget.threshold": _("A budget threshold was reached"),
    "budget.action": _("Hosts were stopped by the budget"),
    "idle.warning": _("An idle host will be stopped soon"),
    "idle.stopped": _("An idle host was stopped"),
    "idle.blind": _("A host's activity cannot be seen"),
    "idle.deleted": _("A host stopped for too long was deleted"),
    "schedule.started": _("A schedule started a host"),
    "schedule.stopped": _("A schedule stopped a host"),
    "schedule.closing": _("A schedule's closing found a host in use"),
    "schedule.failed": _("A scheduled action failed"),
}
MAX_ATTEMPTS = 6
# A failed send is retried after about 30 s, 1, 2, 4 and 8 min (with jitter), at most an hour.
RETRY_BASE_SECONDS = 30.0
RETRY_MAX_SECONDS = 3600.0
# A claimed delivery is retried by the periodic job if its sender dies before recording it.
SEND_LEASE = timedelta(minutes=2)


def notify(
    *,
    team: Team,
    event: str,
    subject: str,
    message: str,
    data: dict[str, Any] | None = None,
    channel: NotificationChannel | None = None,
) -> list[NotificationDelivery]:
    """Queues the notification for every enabled channel of the team that wants ``event``
    (or for ``channel`` alone)."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    channels = (
        [channel]
        if channel is not None
        else [
            c for c in NotificationChannel.objects.filter(team=team, enabled=True) if c.wants(event)
        ]
    )
    deliveries = [
        NotificationDelivery.objects.create(
            channel=channel,
            team=team,
            event=event,
            subject=str(subject)[:200],
            message=str(message),
            data=data or {},
        )
        for channel in channels
    ]
    if deliveries:
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: _enqueue(ids))
    return deliveries


def _enqueue(ids: list[int], countdown: float = 0) -> None:
    from notifications.tasks import deliver_notification

    for delivery_id in ids:
        deliver_notification.apply_async((delivery_id,), countdown=countdown)


def webhook_payload(delivery: NotificationDelivery) -> dict[str, Any]:
    fmt = delivery.channel.webhook_format
    if fmt == WebhookFormat.DINGTALK:
        return {
            "msgtype": "markdown",
            "markdown": {
                "title": delivery.subject,
                "text": f"### {delivery.subject}\n\n{delivery.message}",
            },
        }
    if fmt == WebhookFormat.SLACK:
        return {"text": f"*{delivery.subject}*\n{delivery.message}"}
    return {
        "event": delivery.event,
        "team": delivery.team.slug,
        "subject": delivery.subject,
        "message": delivery.message,
        "data": delivery.data,
        "created_at": delivery.created_at.isoformat(),
    }


def _send(delivery: NotificationDelivery) -> None:
    channel = delivery.channel
    if channel.kind == ChannelKind.EMAIL:
        recipients = [a.strip() for a in channel.target.split(",") if a.strip()]
        send_mail(
            subject=f"[nestops] {delivery.subject}",
            message=delivery.message,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=recipients,
        )
        return
    response = webhooks.post(channel.webhook_url(), webhook_payload(delivery))
    # DingTalk answers 200 with {"errcode": n} when it refuses a message.
    if channel.webhook_format == WebhookFormat.DINGTALK:
        try:
            body = response.json()
        except ValueError:
            body = {}
        errcode = body.get("errcode") if isinstance(body, dict) else None
        if errcode:
            code = errcode if isinstance(errcode, int) else "?"
            raise webhooks.DeliveryFailed(f"DingTalk refused the message (errcode {code})")


def _error_text(exc: Exception) -> str:
    """What ``last_error`` shows: our own phrases, never what a remote server sent back."""
    if isinstance(exc, webhooks.DeliveryFailed):
        return str(exc)[:1000]
    return f"{type(exc).__name__}: the delivery failed"


def deliver(delivery_id: int) -> None:
    """Sends one delivery if it is due; records the outcome and schedules a retry."""
    now = timezone.now()
    claimed = NotificationDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + SEND_LEASE)
    if not claimed:
        return
    delivery = NotificationDelivery.objects.select_related("channel", "team").get(pk=delivery_id)
    attempts = delivery.attempts + 1
    try:
        _send(delivery)
    except Exception as exc:  # any failure of a remote mail server or webhook
        error = _error_text(exc)
        if attempts >= MAX_ATTEMPTS:
            NotificationDelivery.objects.filter(pk=delivery_id).update(
                status=DeliveryStatus.FAILED, attempts=attempts, last_error=error
            )
            logger.warning(
                "notification %s gave up after %s attempts: %s", delivery_id, attempts, error
            )
            return
        delay = backoff_seconds(attempts, base=RETRY_BASE_SECONDS, maximum=RETRY_MAX_SECONDS)
        NotificationDelivery.objects.filter(pk=delivery_id).update(
            attempts=attempts,
            last_error=error,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )
        _enqueue([delivery_id], countdown=delay)
        return
    NotificationDelivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.SENT, attempts=attempts, sent_at=timezone.now(), last_error=""
    )


def deliver_due(limit: int = 200) -> int:
    """Re-enqueues pending deliveries that are due (a lost message, a dead sender)."""
    due = list(
        NotificationDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()
        ).values_list("pk", flat=True)[:limit]
    )
    _enqueue(due)
    return len(due)
