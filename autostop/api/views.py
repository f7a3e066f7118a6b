"""Idle policy, snooze and team limits: ``/api/v1/instances/{id}/idle-policy/``,
``/api/v1/instances/{id}/snooze/`` and ``/api/v1/teams/{slug}/idle-settings/``.

Viewers read, operators change an instance's policy and snooze it, team admins set the team's
enforced maximum; another team's instance or team is a 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role, Team
from accounts.permissions import has_role, teams_with_role
from autostop.api.responses import (
    IdlePolicyResponseSerializer,
    SnoozeResponseSerializer,
    TeamIdleSettingsResponseSerializer,
)
from autostop.models import IdleEvaluation, IdlePolicy, Snooze, TeamIdleSettings
from autostop.selectors import (
    active_snooze,
    effective_policy,
    enforced_maximum,
    related,
    snooze_limit_hours,
    stored_values,
)
from autostop.services import cancel_snooze, reset_policy, save_policy, save_team_settings, snooze
from autostop.status import idle_status
from instances.api.base import OnInstance
from instances.models import ChargeType, ServiceInstance, Status, StopMode
from nestops.api import StrictSerializer
from nestops.times import iso_time


class InstanceScopedView(OnInstance, APIView):
    """A view under ``/instances/{public_id}/``: members read, operators write."""


# --- idle policy -------------------------------------------------------------------------------


class IdlePolicySerializer(StrictSerializer):
    enabled = serializers.BooleanField()
    idle_minutes = serializers.IntegerField()
    gpu_threshold = serializers.FloatField(min_value=0.5, max_value=95)
    stop_mode = serializers.ChoiceField(choices=StopMode.choices)
    warning_minutes = serializers.IntegerField(min_value=0, max_value=120)
    delete_after_days = serializers.IntegerField(
        min_value=1, max_value=365, allow_null=True, required=False
    )
    max_running_hours = serializers.IntegerField(
        min_value=1, max_value=720, allow_null=True, required=False
    )

    def validate_idle_minutes(self, value: int) -> int:
        low, high = settings.NESTOPS_IDLE_MINUTES_MIN, settings.NESTOPS_IDLE_MINUTES_MAX
        if not low <= value <= high:
            raise serializers.ValidationError(
                _("Give between %(low)s and %(high)s minutes.") % {"low": low, "high": high}
            )
        return value

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        instance: ServiceInstance = self.context["instance"]
        merged = {**self.context["current"], **data}
        errors: dict[str, list[str]] = {}
        if merged["warning_minutes"] >= merged["idle_minutes"]:
            errors["warning_minutes"] = [
                _("The warning must come before the stop: fewer minutes than the idle window.")
            ]
        cap = enforced_maximum(instance, related(instance.team, "idle_settings"))
        if cap is not None:
            if not merged["enabled"]:
                errors["enabled"] = [
                    _(
                        "Your team requires the idle stop on pay-as-you-go hosts "
                        "(at most %(minutes)s idle minutes)."
                    )
                    % {"minutes": cap}
                ]
            if merged["idle_minutes"] > cap:
                errors["idle_minutes"] = [
                    _("Your team allows at most %(minutes)s idle minutes.") % {"minutes": cap}
                ]
        if errors:
            raise serializers.ValidationError(errors)
        return data


def policy_body(instance: ServiceInstance) -> dict[str, Any]:
    policy = IdlePolicy.objects.filter(instance=instance).first()
    team_settings = TeamIdleSettings.objects.filter(team_id=instance.team_id).first()
    effective = effective_policy(instance, policy, team_settings)
    evaluation = IdleEvaluation.objects.filter(instance=instance).first()
    notes = []
    if instance.charge_type == ChargeType.PREPAID:
        notes.append(
            _(
                "A subscription host is paid for its whole period: stopping it saves nothing. "
                "The idle stop is off by default for it."
            )
        )
    found = active_snooze(instance)
    return {
        **stored_values(instance, policy),
        "is_default": policy is None,
        "effective": effective.as_dict(),
        "team_max_idle_minutes": enforced_maximum(instance, team_settings),
        "bounds": {
            "idle_minutes": [settings.NESTOPS_IDLE_MINUTES_MIN, settings.NESTOPS_IDLE_MINUTES_MAX],
            "snooze_hours": snooze_limit_hours(team_settings),
        },
        "notes": notes,
        "status": idle_status(instance, evaluation),
        "snooze": snooze_body(found),
    }


class IdlePolicyView(InstanceScopedView):
    """The instance's idle policy (or the defaults), what applies under the team's maximum,
    and the current idle status."""

    @extend_schema(responses={200: IdlePolicyResponseSerializer})
    def get(self, request: Request, public_id: str) -> Response:
        return Response(policy_body(self.instance()))

    @extend_schema(request=IdlePolicySerializer, responses={200: IdlePolicyResponseSerializer})
    def put(self, request: Request, public_id: str) -> Response:
        return self._save(request, partial=False)

    @extend_schema(request=IdlePolicySerializer, responses={200: IdlePolicyResponseSerializer})
    def patch(self, request: Request, public_id: str) -> Response:
        return self._save(request, partial=True)

    @extend_schema(request=None, responses={200: IdlePolicyResponseSerializer})
    def delete(self, request: Request, public_id: str) -> Response:
        """Back to the defaults."""
        instance = self.instance()
        reset_policy(instance=instance)
        return Response(policy_body(instance))

    def _save(self, request: Request, *, partial: bool) -> Response:
        instance = self.instance()
        current = stored_values(instance, IdlePolicy.objects.filter(instance=instance).first())
        incoming = IdlePolicySerializer(
            data=request.data, partial=partial, context={"instance": instance, "current": current}
        )
        incoming.is_valid(raise_exception=True)
        save_policy(instance=instance, values=dict(incoming.validated_data), actor=request.user)
        return Response(policy_body(instance))


# --- snooze ------------------------------------------------------------------------------------


def snooze_body(found: Snooze | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "until": iso_time(found.until),
        "reason": found.reason,
        "created_by": found.created_by.username if found.created_by_id else None,
        "created_at": iso_time(found.created_at),
    }


class SnoozeSerializer(StrictSerializer):
    hours = serializers.FloatField(min_value=0.25)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate_hours(self, value: float) -> float:
        limit = self.context["limit"]
        if value > limit:
            raise serializers.ValidationError(_("At most %(hours)s hours.") % {"hours": limit})
        return value


class SnoozeView(InstanceScopedView):
    """ "Keep awake for N hours": the idle policy leaves the host alone until then."""

    @extend_schema(responses={200: SnoozeResponseSerializer})
    def get(self, request: Request, public_id: str) -> Response:
        instance = self.instance()
        return Response({"snooze": snooze_body(active_snooze(instance))})

    @extend_schema(request=SnoozeSerializer, responses={201: SnoozeResponseSerializer})
    def post(self, request: Request, public_id: str) -> Response:
        instance = self.instance()
        if instance.status in (Status.DELETED, Status.DELETING):
            raise exceptions.ValidationError(
                {"hours": [_("%(id)s is deleted.") % {"id": instance.public_id}]}
            )
        team_settings = TeamIdleSettings.objects.filter(team_id=instance.team_id).first()
        incoming = SnoozeSerializer(
            data=request.data, context={"limit": snooze_limit_hours(team_settings)}
        )
        incoming.is_valid(raise_exception=True)
        created = snooze(
            instance=instance,
            hours=incoming.validated_data["hours"],
            reason=incoming.validated_data["reason"],
            actor=request.user,
        )
        return Response({"snooze": snooze_body(created)}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, public_id: str) -> Response:
        cancel_snooze(instance=self.instance(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- the team's enforced maximum ---------------------------------------------------------------


class TeamIdleSettingsSerializer(StrictSerializer):
    max_idle_minutes = serializers.IntegerField(allow_null=True)
    max_snooze_hours = serializers.IntegerField(allow_null=True, required=False, min_value=0)

    def validate_max_idle_minutes(self, value: int | None) -> int | None:
        low, high = settings.NESTOPS_IDLE_MINUTES_MIN, settings.NESTOPS_IDLE_MINUTES_MAX
        if value is not None and not low <= value <= high:
            raise serializers.ValidationError(
                _("Give between %(low)s and %(high)s minutes, or null for no maximum.")
                % {"low": low, "high": high}
            )
        return value

    def validate_max_snooze_hours(self, value: int | None) -> int | None:
        if value is not None and value > settings.NESTOPS_SNOOZE_MAX_HOURS:
            raise serializers.ValidationError(
                _("At most %(hours)s hours.") % {"hours": settings.NESTOPS_SNOOZE_MAX_HOURS}
            )
        return value


def team_settings_body(team: Team) -> dict[str, Any]:
    found = TeamIdleSettings.objects.filter(team=team).first()
    return {
        "team": team.slug,
        "max_idle_minutes": found.max_idle_minutes if found else None,
        "max_snooze_hours": found.max_snooze_hours if found else None,
        "updated_at": iso_time(found.updated_at) if found else None,
    }


class TeamIdleSettingsView(APIView):
    """The maximum idle window a team enforces on its pay-as-you-go hosts (operators can
    neither exceed it nor switch the idle stop off), and the longest snooze allowed. Members
    read; team admins change."""

    def get_team(self) -> Team:
        user = self.request.user
        return get_object_or_404(teams_with_role(user, Role.VIEWER), slug=self.kwargs["slug"])

    @extend_schema(responses={200: TeamIdleSettingsResponseSerializer})
    def get(self, request: Request, slug: str) -> Response:
        return Response(team_settings_body(self.get_team()))

    @extend_schema(
        request=TeamIdleSettingsSerializer, responses={200: TeamIdleSettingsResponseSerializer}
    )
    def put(self, request: Request, slug: str) -> Response:
        return self._save(request, partial=False)

    @extend_schema(
        request=TeamIdleSettingsSerializer, responses={200: TeamIdleSettingsResponseSerializer}
    )
    def patch(self, request: Request, slug: str) -> Response:
        return self._save(request, partial=True)

    def _save(self, request: Request, *, partial: bool) -> Response:
        team = self.get_team()
        if not has_role(request.user, team, Role.ADMIN):
            raise exceptions.PermissionDenied(_("Only team admins set the team's idle limits."))
        incoming = TeamIdleSettingsSerializer(data=request.data, partial=partial)
        incoming.is_valid(raise_exception=True)
        values = {**team_settings_body(team), **incoming.validated_data}
        save_team_settings(team=team, values=values, actor=request.user)
        return Response(team_settings_body(team))
