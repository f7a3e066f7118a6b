"""API representations of service instances and what users send to create and act on them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, serializers

from accounts.api.fields import not_among_yours
from accounts.models import Role, Team
from billing.money import cents, rate_text
from billing.selectors import instance_cost
from instances import catalog, validation
from instances.models import (
    ChargeType,
    PeriodUnit,
    ServiceInstance,
    StopMode,
    Template,
    WebUILanguage,
)
from nestops.api import StrictModelSerializer, StrictSerializer, absolute_url
from nestops.times import iso_time
from webgateway.origins import webui_origin


class ActiveOperationSerializer(StrictSerializer):
    id = serializers.CharField(source="public_id")
    kind = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


TIME_FIELDS = ("status_changed_at", "running_since", "expires_at", "created_at", "updated_at")
# Filled by to_representation from relations, prefetches and other services.
COMPUTED_FIELDS = (
    "id",
    "url",
    "team",
    "created_by",
    "active_operation",
    "idle",
    "cost",
    "webui_url",
)


class InstanceSerializer(StrictModelSerializer):
    """An instance as the API shows it. Secrets are never part of it."""

    id = serializers.CharField(source="public_id", read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    period_unit = serializers.ChoiceField(
        choices=PeriodUnit.choices,
        allow_blank=True,
        read_only=True,
        help_text="Blank for pay-as-you-go.",
    )
    stopped_mode = serializers.ChoiceField(
        choices=StopMode.choices,
        allow_blank=True,
        read_only=True,
        help_text="Blank unless stopped.",
    )
    active_operation = ActiveOperationSerializer(read_only=True, allow_null=True)
    url = serializers.SerializerMethodField()
    webui_url = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "The instance's WebUI through the nestops gateway: stable across stops, starts and "
            "new IP addresses; a nestops token (Bearer, or Basic with the token as password) "
            "opens its API."
        )
    )
    idle = serializers.JSONField(
        read_only=True,
        allow_null=True,
        help_text=gettext_lazy(
            'The idle status of a running host: state, reason and a text such as "idle for '
            '23 min, stops in 7 min", "active: generating" or "blind: no GPU metrics for 40 min".'
        ),
    )
    cost = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "Cost so far from the billing ledger (null before any interval): amount, savings "
            "against the same host left running, the current hourly rate, whether any rate was "
            "estimated, and whether stopping saves money (not for a subscription)."
        )
    )

    class Meta:
        model = ServiceInstance
        fields = [
            "id",
            "url",
            "name",
            "team",
            "template",
            "region",
            "zone",
            "instance_type",
            "charge_type",
            "period",
            "period_unit",
            "auto_renew",
            "system_disk_category",
            "system_disk_size",
            "bandwidth_out",
            "vpc_cidr",
            "vswitch_cidr",
            "vpc_id",
            "vswitch_id",
            "owns_network",
            "security_group_id",
            "cloud_instance_id",
            "public_access",
            "public_ip",
            "private_ip",
            "webui_endpoint",
            "webui_url",
            "webui_user",
            "webui_language",
            "status",
            "status_reason",
            "status_changed_at",
            "stopped_mode",
            "running_since",
            "expires_at",
            "active_operation",
            "idle",
            "cost",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: ServiceInstance) -> dict[str, Any]:
        # Written out by hand: DRF's per-field machinery costs about 0.3 ms a row, most of a
        # 50-row page. The declared fields above still describe the shape for the schema.
        row = {name: getattr(instance, name) for name in self.PLAIN_FIELDS}
        for name in TIME_FIELDS:
            row[name] = iso_time(getattr(instance, name))
        row["id"] = instance.public_id
        row["url"] = self.get_url(instance)
        row["team"] = instance.team.slug
        row["created_by"] = instance.created_by.username if instance.created_by_id else None
        row["active_operation"] = self.get_active_operation(instance)
        row["idle"] = self.get_idle(instance)
        row["cost"] = self.get_cost(instance)
        row["webui_url"] = self.get_webui_url(instance)
        return {name: row[name] for name in self.Meta.fields}

    PLAIN_FIELDS = tuple(set(Meta.fields) - set(TIME_FIELDS) - set(COMPUTED_FIELDS))

    def get_webui_url(self, instance: ServiceInstance) -> str:
        return webui_origin(instance.public_id) + "/"

    def get_url(self, instance: ServiceInstance) -> str:
        # Built by hand: reverse() per row costs more than the rest of the row.
        return absolute_url(self.context, f"/api/v1/instances/{instance.public_id}/")

    def get_idle(self, instance: ServiceInstance) -> dict[str, Any] | None:
        # The evaluation comes with the row (select_related ``idle_evaluation``): no query.
        from autostop.selectors import related
        from autostop.status import idle_status

        if instance.status != "running":
            return None
        return idle_status(instance, related(instance, "idle_evaluation"))

    def get_cost(self, instance: ServiceInstance) -> dict[str, Any] | None:
        # From the viewset's annotations (``billing.selectors.with_costs``): no extra query.
        found = instance_cost(instance, self.context.get("now"))
        if found is None:
            return None
        return {
            "currency": found.currency or None,
            "so_far": cents(found.so_far),
            "savings": cents(found.savings),
            "hourly_rate": rate_text(found.hourly_rate),
            "estimated": found.estimated,
            "stopping_saves_money": not instance.is_prepaid,
        }

    def get_active_operation(self, instance: ServiceInstance) -> dict[str, Any] | None:
        # Filled by the viewset's prefetch (``active_lifecycle``) so a page costs one query.
        active = getattr(instance, "active_lifecycle", None)
        if not active:
            return None
        operation = active[0]
        return {
            "id": operation.public_id,
            "kind": operation.kind,
            "status": operation.status,
            "created_at": iso_time(operation.created_at),
        }


class InstanceCreateSerializer(StrictSerializer):
    """What a user sends to deploy a WebUI host."""

    team = serializers.SlugField(required=False, help_text=gettext_lazy("Team slug."))
    name = serializers.CharField(max_length=64)
    template = serializers.ChoiceField(choices=Template.choices, default=Template.SD_WEBUI)
    region = serializers.CharField(max_length=32)
    zone = serializers.CharField(max_length=32)
    instance_type = serializers.CharField(max_length=48)
    charge_type = serializers.ChoiceField(choices=ChargeType.choices, default=ChargeType.POSTPAID)
    period = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    period_unit = serializers.ChoiceField(
        choices=PeriodUnit.choices, required=False, allow_blank=True
    )
    auto_renew = serializers.BooleanField(default=False)
    system_disk_category = serializers.ChoiceField(
        choices=validation.DISK_CATEGORIES,
        default=validation.DEFAULT_DISK["system_disk_category"],
    )
    system_disk_size = serializers.IntegerField(
        default=validation.DEFAULT_DISK["system_disk_size"],
        min_value=validation.DISK_SIZE_RANGE[0],
        max_value=validation.DISK_SIZE_RANGE[1],
        help_text=gettext_lazy("System disk size, GB."),
    )
    bandwidth_out = serializers.IntegerField(
        default=validation.DEFAULT_DISK["bandwidth_out"],
        min_value=validation.BANDWIDTH_RANGE[0],
        max_value=validation.BANDWIDTH_RANGE[1],
        help_text=gettext_lazy("Outbound bandwidth, Mbit/s."),
    )
    vpc_cidr = serializers.CharField(default="192.168.0.0/16", max_length=18)
    vswitch_cidr = serializers.CharField(default="192.168.0.0/24", max_length=18)
    vpc_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    vswitch_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    public_access = serializers.BooleanField(default=False)
    webui_language = serializers.ChoiceField(
        choices=WebUILanguage.choices,
        required=False,
        default="",
        help_text=gettext_lazy("The WebUI's language; by default the user's dashboard language."),
    )
    host_password = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        write_only=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text=gettext_lazy("Optional host login password (Compute Nest rule)."),
    )

    def validate_name(self, value: str) -> str:
        _run(validation.validate_instance_name, value)
        return value

    def validate_vpc_cidr(self, value: str) -> str:
        return str(
            _checked(
                validation.parse_private_cidr, value, validation.VPC_MASKS, _("The VPC CIDR block")
            )
        )

    def validate_vswitch_cidr(self, value: str) -> str:
        return str(
            _checked(
                validation.parse_private_cidr,
                value,
                validation.VSWITCH_MASKS,
                _("The vSwitch CIDR block"),
            )
        )

    def validate_host_password(self, value: str) -> str:
        if value:
            _run(validation.validate_host_password, value)
        return value

    def validate_team(self, slug: str) -> Team:
        team = Team.objects.filter(slug=slug).first()
        user = self.context["request"].user
        if team is None or not (user.is_superuser or team.memberships.filter(user=user).exists()):
            raise serializers.ValidationError(not_among_yours(slug))
        return team

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        data["team"] = self._team(data.get("team"), self.context["request"].user)
        errors = validation.validate_request(data)
        if errors:
            raise serializers.ValidationError(errors)
        return data

    def _team(self, team: Team | None, user: Any) -> Team:
        if team is not None:
            if not (
                user.is_superuser
                or team.memberships.filter(user=user, role__in=[Role.OPERATOR, Role.ADMIN]).exists()
            ):
                raise exceptions.PermissionDenied(
                    _("Your role in team %(team)s does not allow deploying.") % {"team": team.slug}
                )
            return team
        teams = list(
            Team.objects.filter(
                memberships__user=user, memberships__role__in=[Role.OPERATOR, Role.ADMIN]
            )[:2]
        )
        if len(teams) == 1:
            return teams[0]
        if not teams and not user.is_superuser:
            raise exceptions.PermissionDenied(
                _("You need the operator role in a team to deploy instances.")
            )
        raise serializers.ValidationError(
            {"team": [_("Say which team the instance belongs to (its slug).")]}
        )


def _checked(parse: Any, value: str, masks: tuple[int, int], label: str) -> Any:
    try:
        return parse(value, masks=masks, label=label)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None


def _run(check: Any, value: Any) -> None:
    try:
        check(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None


class InstanceUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=64, required=False)
    auto_renew = serializers.BooleanField(required=False)

    def validate_name(self, value: str) -> str:
        _run(validation.validate_instance_name, value)
        instance: ServiceInstance = self.context["instance"]
        if (
            ServiceInstance.objects.alive()
            .filter(team=instance.team, name=value)
            .exclude(pk=instance.pk)
            .exists()
        ):
            raise serializers.ValidationError(
                _("Your team already has an instance named %(name)s.") % {"name": value}
            )
        return value


class StopSerializer(StrictSerializer):
    mode = serializers.ChoiceField(choices=StopMode.choices, default=StopMode.STOP_CHARGING)
    force = serializers.BooleanField(default=False)


class WebUILanguageSerializer(StrictSerializer):
    language = serializers.ChoiceField(choices=WebUILanguage.choices)


class RestartSerializer(StrictSerializer):
    force = serializers.BooleanField(default=False)


class ResizeSerializer(StrictSerializer):
    instance_type = serializers.CharField(max_length=48)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        instance: ServiceInstance = self.context["instance"]
        if instance.is_prepaid:
            raise serializers.ValidationError(
                {"instance_type": [_("Only pay-as-you-go hosts can be resized here.")]}
            )
        if data["instance_type"] == instance.instance_type:
            raise serializers.ValidationError(
                {
                    "instance_type": [
                        _("The host already is %(type)s.") % {"type": instance.instance_type}
                    ]
                }
            )
        catalog.forget_stock(instance.region)
        errors = catalog.check_offer(
            region=instance.region,
            zone=instance.zone,
            instance_type=data["instance_type"],
            charge_type=instance.charge_type,
            template=instance.template,
        )
        if errors:
            raise serializers.ValidationError(
                {"instance_type": [m for messages in errors.values() for m in messages]}
            )
        return data


class DeleteSerializer(StrictSerializer):
    terminate_subscription = serializers.BooleanField(
        default=False,
        help_text=gettext_lazy(
            "Required for a subscription host that has not expired: its subscription ends now."
        ),
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        instance: ServiceInstance = self.context["instance"]
        if instance.subscription_active and not data["terminate_subscription"]:
            raise serializers.ValidationError(
                {
                    "terminate_subscription": [
                        _(
                            "%(instance)s is a subscription that runs until %(date)s. Deleting it "
                            "terminates the subscription: confirm with terminate_subscription."
                        )
                        % {
                            "instance": instance.public_id,
                            "date": f"{instance.expires_at:%Y-%m-%d}",
                        }
                    ]
                }
            )
        return data


class CredentialsSerializer(StrictSerializer):
    webui_user = serializers.CharField()
    webui_password = serializers.CharField()
    webui_endpoint = serializers.CharField()
    revealed_at = serializers.DateTimeField()


class NoBodySerializer(StrictSerializer):
    """Actions that take no parameters: any field sent is an error, not ignored."""
