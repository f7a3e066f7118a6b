"""Where a team's notifications go (channels) and what was sent (deliveries)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, TeamScopedQuerySet
from nestops.fields import EncryptedTextField
from nestops.ids import new_public_id
from nestops.url_credentials import redact_url


def new_channel_id() -> str:
    return new_public_id("nc")


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Webhook")


class WebhookFormat(models.TextChoices):
    GENERIC = "generic", _("Generic JSON")
    DINGTALK = "dingtalk", _("DingTalk robot")
    SLACK = "slack", _("Slack incoming webhook")


class NotificationChannel(models.Model):
    """Where a team's notifications go: email addresses or a webhook URL.

    ``events`` lists the event names the channel wants (``notifications.services.EVENTS``);
    an empty list means every event.
    """

    public_id = models.CharField(
        _("id"), max_length=16, unique=True, default=new_channel_id, editable=False
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="channels")
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=10, choices=ChannelKind.choices)
    target = models.CharField(
        _("target"),
        max_length=1000,
        help_text=_("Email addresses separated by commas, or the webhook URL."),
    )
    # A webhook URL with credentials in its query string (``?access_token=...``): the full URL,
    # encrypted; ``target`` then holds it redacted (``?access_token=REDACTED``).
    target_secret = EncryptedTextField(_("target with credentials"), blank=True, editable=False)
    webhook_format = models.CharField(
        _("webhook format"),
        max_length=10,
        choices=WebhookFormat.choices,
        default=WebhookFormat.GENERIC,
    )
    events = models.JSONField(_("events"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        db_table = "nestops_notificationchannel"
        ordering = ["team", "name"]
        verbose_name = _("notification channel")
        verbose_name_plural = _("notification channels")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def webhook_url(self) -> str:
        """Where the webhook is posted: the full URL, credentials included (the encrypted one
        while ``target`` is still its redacted form: a target changed in the admin wins)."""
        if self.target_secret and redact_url(self.target_secret) == self.target:
            return self.target_secret
        return self.target

    def wants(self, event: str) -> bool:
        return self.enabled and (not self.events or event in self.events)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class NotificationDelivery(models.Model):
    """One notification sent (or being sent) to one channel, with its attempts."""

    channel = models.ForeignKey(
        NotificationChannel, on_delete=models.CASCADE, related_name="deliveries"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("event"), max_length=40)
    subject = models.CharField(_("subject"), max_length=200)
    message = models.TextField(_("message"))
    data = models.JSONField(_("data"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        db_table = "nestops_notificationdelivery"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]
        verbose_name = _("notification delivery")
        verbose_name_plural = _("notification deliveries")

    def __str__(self) -> str:
        return f"{self.event} to {self.channel} ({self.status})"
