"""Account pages: API tokens, team members, language, current team."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import login_throttle
from accounts import services as token_service
from accounts.models import ApiToken, AuditAction, AuditEvent, Membership, Role, Team
from accounts.permissions import has_role
from accounts.preferences import current_team, preference, teams_of


def _next(request: HttpRequest, fallback: str = "/") -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@login_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Remembers the language for this user (not only this browser)."""
    language = request.POST.get("language", "")
    if language in dict(settings.LANGUAGES):
        found = preference(request.user)
        found.language = language
        found.save(update_fields=["language"])
    return redirect(_next(request))


@login_required
@require_POST
def switch_team(request: HttpRequest) -> HttpResponse:
    slug = request.POST.get("team", "")
    team = next((t for t in teams_of(request.user) if t.slug == slug), None)
    if team is None:
        raise PermissionDenied(_("You are not a member of that team."))
    found = preference(request.user)
    found.current_team = team
    found.save(update_fields=["current_team"])
    return redirect("instances:list")


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=80)
    days = forms.IntegerField(
        label=gettext_lazy("Expires after (days, optional)"),
        required=False,
        min_value=1,
        max_value=3650,
    )


@never_cache
@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    created_plain = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data.get("days")
        _token, created_plain = token_service.issue_token(
            user=request.user,
            name=form.cleaned_data["name"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
            via="dashboard",
            remote_addr=request.META.get("REMOTE_ADDR"),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        form = TokenForm()
    return render(
        request,
        "accounts/tokens.html",
        {
            "form": form,
            "created_plain": created_plain,
            "tokens": ApiToken.objects.filter(user=request.user),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def revoke_token(request: HttpRequest, public_id: str) -> HttpResponse:
    # Another user's token is answered as one that does not exist.
    token = get_object_or_404(ApiToken, user=request.user, public_id=public_id)
    if token_service.revoke_token(
        token=token,
        actor=request.user,
        via="dashboard",
        remote_addr=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    ):
        messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("account:tokens")


class MemberForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Username"), max_length=150)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)

    def clean_username(self) -> str:
        # Whether the account exists is not said here: the answer is the same either way.
        return self.cleaned_data["username"].strip()


def _audit_membership(request: HttpRequest, team: Team, details: dict) -> None:
    AuditEvent.objects.create(
        actor=request.user,
        team=team,
        action=AuditAction.MEMBERSHIP_CHANGED,
        target=team.slug,
        details=details,
        remote_addr=request.META.get("REMOTE_ADDR"),
    )


def _add_member(request: HttpRequest, *, team: Team, username: str, role: str) -> None:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        return
    with transaction.atomic():
        membership, created = Membership.objects.update_or_create(
            user=user, team=team, defaults={"role": role}
        )
        _audit_membership(
            request, team, {"user": user.username, "role": membership.role, "added": created}
        )


@login_required
def members(request: HttpRequest) -> HttpResponse:
    team = current_team(request)
    if team is None:
        return render(request, "accounts/members.html", {"team": None})
    is_admin = has_role(request.user, team, Role.ADMIN)
    form = MemberForm(request.POST or None)
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied(_("Only team admins manage members."))
        if form.is_valid():
            username, role = form.cleaned_data["username"], form.cleaned_data["role"]
            _add_member(request, team=team, username=username, role=role)
            # One answer whether or not the account exists: the form does not tell who has one.
            messages.success(
                request,
                _("If %(user)s has an account, they are now %(role)s of %(team)s.")
                % {"user": username, "role": Role(role).label, "team": team.name},
            )
            return redirect("account:members")
    return render(
        request,
        "accounts/members.html",
        {
            "team": team,
            "is_admin": is_admin,
            "form": form,
            "memberships": Membership.objects.filter(team=team).select_related("user"),
            "roles": Role.choices,
        },
    )


@login_required
@require_POST
def change_member(request: HttpRequest, username: str) -> HttpResponse:
    team = current_team(request)
    if team is None or not has_role(request.user, team, Role.ADMIN):
        raise PermissionDenied(_("Only team admins manage members."))
    membership = Membership.objects.filter(team=team, user__username=username).first()
    if membership is None:
        messages.error(request, _("%(user)s is not in this team.") % {"user": username})
        return redirect("account:members")
    admins = Membership.objects.filter(team=team, role=Role.ADMIN)
    last_admin = membership.role == Role.ADMIN and admins.count() == 1
    if request.POST.get("remove"):
        if last_admin:
            messages.error(request, _("A team keeps at least one admin."))
            return redirect("account:members")
        with transaction.atomic():
            membership.delete()
            _audit_membership(request, team, {"user": username, "removed": True})
        messages.success(request, _("%(user)s left the team.") % {"user": username})
        return redirect("account:members")
    role = request.POST.get("role", "")
    if role not in Role.values:
        messages.error(request, _("Choose a role."))
    elif last_admin and role != Role.ADMIN:
        messages.error(request, _("A team keeps at least one admin."))
    else:
        with transaction.atomic():
            membership.role = role
            membership.save(update_fields=["role"])
            _audit_membership(request, team, {"user": username, "role": role})
        messages.success(request, _("Role changed."))
    return redirect("account:members")


class PreferencesForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        help_text=gettext_lazy("Times on the dashboard are shown in this zone; the API uses UTC."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zones = sorted(zoneinfo.available_timezones())
        self.fields["time_zone"].choices = [("", gettext_lazy("Server default"))] + [
            (zone, zone) for zone in zones
        ]
        self.fields["time_zone"].required = False


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """The user's time zone (the language is chosen in the header)."""
    found = preference(request.user)
    form = PreferencesForm(request.POST or None, initial={"time_zone": found.time_zone})
    if request.method == "POST" and form.is_valid():
        found.time_zone = form.cleaned_data["time_zone"]
        found.save(update_fields=["time_zone"])
        messages.success(request, _("Preferences saved."))
        return redirect("account:preferences")
    return render(request, "accounts/preferences.html", {"form": form})


class SignInView(auth_views.LoginView):
    """Django's sign-in page; a locked username or address gets the lockout page (429)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = request.POST.get("username")
        address = login_throttle.request_address(request)
        if login_throttle.is_locked(username=username, address=address):
            # Counted too: hammering a locked account is still a failure of this address.
            login_throttle.record_failure(username=username, address=address)
            return locked_response(request)
        response = super().post(request, *args, **kwargs)
        if response.status_code == 200 and login_throttle.is_locked(
            username=username, address=address
        ):
            return locked_response(request)
        return response


def locked_response(request: HttpRequest) -> HttpResponse:
    return render(request, "registration/locked.html", status=429)
