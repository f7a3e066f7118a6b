"""Managing a team's channels from the dashboard: add (email, webhook, DingTalk, Slack), send a
test, turn on or off, delete. The API's serializer checks the same rules for its requests."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import AuditAction, AuditEvent, Team
from accounts.requester import Requester
from nestops.addresses import AddressRefused
from nestops.url_credentials import credential_keys, redact_url
from notifications.models import ChannelKind, NotificationChannel, WebhookFormat
from notifications.services import notify
from notifications.webhooks import check_webhook_url


def clean_target(kind: str, target: str) -> str:
    """Email addresses (comma-separated) or a webhook URL the outbound address policy allows."""
    target = target.strip()
    if kind == ChannelKind.EMAIL:
        found = [a.strip() for a in target.split(",") if a.strip()]
        if not found:
            raise ValidationError(_("Give at least one email address."))
        for address in found:
            EmailValidator(_("%(address)s is not an email address.") % {"address": address})(
                address
            )
        return ", ".join(found)
    URLValidator(
        schemes=["http", "https"], message=_("The webhook must be an http:// or https:// URL.")
    )(target)
    try:
        check_webhook_url(target)
    except AddressRefused as exc:
        raise ValidationError(
            _(
                "Webhooks to this address are not allowed (%(reason)s): metadata and link-local "
                "addresses never are, private ones only with NESTOPS_WEBHOOK_ALLOW_PRIVATE_URLS; "
                "write the host as a plain name or dotted address, without a user name."
            )
            % {"reason": exc.code}
        ) from None
    return target


def add_channel(
    *, team: Team, name: str, kind: str, webhook_format: str, target: str, requester: Requester
) -> NotificationChannel:
    if kind not in ChannelKind.values or webhook_format not in WebhookFormat.values:
        raise ValidationError(_("Choose email, webhook, DingTalk or Slack."))
    target = clean_target(kind, target)
    # A URL with credentials in its query string is kept encrypted and shown redacted.
    secret = kind == ChannelKind.WEBHOOK and bool(credential_keys(target))
    with transaction.atomic():
        channel = NotificationChannel.objects.create(
            team=team,
            name=name.strip()[:80] or kind,
            kind=kind,
            webhook_format=webhook_format if kind == ChannelKind.WEBHOOK else WebhookFormat.GENERIC,
            target=redact_url(target) if secret else target,
            target_secret=target if secret else "",
        )
        _audit(requester, team, channel, "added")
    return channel


def _audit(requester: Requester, team: Team, channel: NotificationChannel, what: str) -> None:
    AuditEvent.objects.create(
        actor=requester.user,
        team=team,
        action=AuditAction.CHANNEL_CHANGED,
        target=channel.public_id,
        remote_addr=requester.address,
        details={"change": what, "name": channel.name, "kind": channel.kind},
    )


def send_test(*, channel: NotificationChannel) -> None:
    with transaction.atomic():
        notify(
            team=channel.team,
            event="test",
            subject=_("Test notification from nestops"),
            message=_("Channel %(name)s of team %(team)s works.")
            % {"name": channel.name, "team": channel.team.name},
            channel=channel,
        )


def set_enabled(*, channel: NotificationChannel, enabled: bool, requester: Requester) -> None:
    with transaction.atomic():
        channel.enabled = enabled
        channel.save(update_fields=["enabled"])
        _audit(requester, channel.team, channel, "enabled" if enabled else "disabled")


def delete_channel(*, channel: NotificationChannel, requester: Requester) -> None:
    with transaction.atomic():
        _audit(requester, channel.team, channel, "deleted")
        channel.delete()
