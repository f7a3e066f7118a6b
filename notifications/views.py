"""The team's notification channels page: members see them and the recent deliveries; team
admins add them (email, webhook, DingTalk, Slack), send a test, turn them on or off, delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role, Team
from accounts.permissions import has_role
from accounts.preferences import current_team
from accounts.requester import Requester, Source
from notifications import channels
from notifications.models import (
    ChannelKind,
    NotificationChannel,
    NotificationDelivery,
    WebhookFormat,
)

# What the form offers: (value, label, kind, webhook format).
CHOICES = (
    ("email", gettext_lazy("Email"), ChannelKind.EMAIL, WebhookFormat.GENERIC),
    ("webhook", gettext_lazy("Webhook (JSON)"), ChannelKind.WEBHOOK, WebhookFormat.GENERIC),
    ("dingtalk", gettext_lazy("DingTalk robot"), ChannelKind.WEBHOOK, WebhookFormat.DINGTALK),
    ("slack", gettext_lazy("Slack incoming webhook"), ChannelKind.WEBHOOK, WebhookFormat.SLACK),
)
RECENT_DELIVERIES = 20


def _add(request: HttpRequest, team: Team, requester: Requester) -> None:
    chosen = next((c for c in CHOICES if c[0] == request.POST.get("type")), None)
    if chosen is None:
        messages.error(request, _("Choose email, webhook, DingTalk or Slack."))
        return
    try:
        channel = channels.add_channel(
            team=team,
            name=request.POST.get("name", ""),
            kind=chosen[2],
            webhook_format=chosen[3],
            target=request.POST.get("target", ""),
            requester=requester,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return
    messages.success(request, _("Channel %(name)s added.") % {"name": channel.name})


def _act(request: HttpRequest, team: Team) -> None:
    requester = Requester.of(request, source=Source.DASHBOARD)
    action = request.POST.get("action", "")
    if action == "add":
        _add(request, team, requester)
        return
    channel = get_object_or_404(
        NotificationChannel, team=team, public_id=request.POST.get("channel")
    )
    if action == "test":
        channels.send_test(channel=channel)
        messages.success(
            request,
            _("A test message to %(name)s is on its way; its delivery is listed below.")
            % {"name": channel.name},
        )
    elif action in ("enable", "disable"):
        channels.set_enabled(channel=channel, enabled=action == "enable", requester=requester)
    elif action == "delete":
        channels.delete_channel(channel=channel, requester=requester)
        messages.success(request, _("Channel %(name)s deleted.") % {"name": channel.name})


@login_required
def notification_channels(request: HttpRequest) -> HttpResponse:
    team = current_team(request)
    is_admin = team is not None and has_role(request.user, team, Role.ADMIN)
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied(_("Only team admins manage notification channels."))
        _act(request, team)
        return redirect("notifications:channels")
    context = {"team": team, "is_admin": is_admin, "choices": CHOICES}
    if team is not None:
        context["channels"] = NotificationChannel.objects.filter(team=team).order_by("name")
        context["deliveries"] = (
            NotificationDelivery.objects.filter(team=team)
            .select_related("channel")
            .order_by("-created_at")[:RECENT_DELIVERIES]
            if is_admin
            else []
        )
    return render(request, "notifications/channels.html", context)
