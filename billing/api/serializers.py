"""What users send to billing's API (estimates, cost queries, budgets) and how budgets look."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from billing import money, selectors
from billing.estimates import Configuration, UsageProfile
from instances import catalog, validation
from instances.models import ChargeType, PeriodUnit
from nestops.api import StrictSerializer

SYSTEM_DISK_CATEGORIES = ("cloud_essd", "cloud_ssd", "cloud_efficiency")
MAX_REPORT_DAYS = 400


class EstimateSerializer(StrictSerializer):
    """A host configuration and how much it will run."""

    region = serializers.CharField(max_length=32)
    zone = serializers.CharField(max_length=32)
    instance_type = serializers.CharField(max_length=48)
    system_disk_category = serializers.ChoiceField(
        choices=SYSTEM_DISK_CATEGORIES, default="cloud_essd"
    )
    system_disk_size = serializers.IntegerField(default=200, min_value=40, max_value=2048)
    bandwidth_out = serializers.IntegerField(default=10, min_value=0, max_value=100)
    charge_type = serializers.ChoiceField(choices=ChargeType.choices, default=ChargeType.POSTPAID)
    period = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy(
            "Subscription period to price (default 1): 1-9, 12, 24, 36, 48 or 60 months, "
            "or 1-4 weeks. With PostPaid it is the subscription compared against."
        ),
    )
    period_unit = serializers.ChoiceField(
        choices=PeriodUnit.choices, required=False, allow_blank=True, default=PeriodUnit.MONTH
    )
    always_on = serializers.BooleanField(default=False)
    hours_per_day = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(24),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Running hours on a day of use (0-24); stopped otherwise."),
    )
    days_per_week = serializers.DecimalField(
        max_digits=3,
        decimal_places=1,
        min_value=Decimal(0),
        max_value=Decimal(7),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Days of use a week (0-7)."),
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        hours, days = data.get("hours_per_day"), data.get("days_per_week")
        if data["always_on"]:
            if (hours is not None and hours != 24) or (days is not None and days != 7):
                errors["always_on"] = [
                    _("An always-on host runs 24 hours, 7 days: leave the hours and days out.")
                ]
            data["hours_per_day"], data["days_per_week"] = Decimal(24), Decimal(7)
        else:
            for name, value in (("hours_per_day", hours), ("days_per_week", days)):
                if value is None:
                    errors[name] = [
                        _("Say how much the host runs, or set always_on.")
                        if name == "hours_per_day"
                        else _("Say on how many days a week the host runs, or set always_on.")
                    ]
        data["period_unit"] = data.get("period_unit") or PeriodUnit.MONTH
        data["period"] = data.get("period") or 1
        try:
            validation.validate_period(ChargeType.PREPAID, data["period"], data["period_unit"])
        except DjangoValidationError as exc:
            errors["period"] = exc.messages
        if not errors:
            errors.update(offer_errors(data["region"], data["zone"], data["instance_type"]))
        if errors:
            raise serializers.ValidationError(errors)
        return data

    def configuration(self) -> Configuration:
        data = self.validated_data
        return Configuration(
            region=data["region"],
            zone=data["zone"],
            instance_type=data["instance_type"],
            system_disk_category=data["system_disk_category"],
            system_disk_size=data["system_disk_size"],
            bandwidth_out=data["bandwidth_out"],
            charge_type=data["charge_type"],
            period=data["period"],
            period_unit=data["period_unit"],
        )

    def usage(self) -> UsageProfile:
        data = self.validated_data
        return UsageProfile(
            always_on=data["always_on"],
            hours_per_day=data["hours_per_day"],
            days_per_week=data["days_per_week"],
        )


def offer_errors(region: str, zone: str, instance_type: str) -> dict[str, list[str]]:
    """Field errors for a configuration the cloud does not offer at all (sold out is not one:
    the estimate says so)."""
    if region not in {r.region_id for r in catalog.regions()}:
        return {"region": [_("Region %(region)s is not offered.") % {"region": region}]}
    if zone not in {z.zone_id for z in catalog.zones(region)}:
        return {
            "zone": [
                _("Zone %(zone)s is not in region %(region)s.") % {"zone": zone, "region": region}
            ]
        }
    if instance_type not in catalog.gpu_types(region):
        return {
            "instance_type": [_("%(type)s is not a GPU instance type.") % {"type": instance_type}]
        }
    if (zone, instance_type) not in catalog.availability(region):
        return {
            "instance_type": [
                _("%(type)s is not offered in zone %(zone)s.")
                % {"type": instance_type, "zone": zone}
            ]
        }
    return {}


class CostQuerySerializer(StrictSerializer):
    """``GET /api/v1/costs/`` parameters."""

    format = serializers.ChoiceField(
        choices=["json", "csv"], required=False, help_text=gettext_lazy("json (default) or csv.")
    )

    group_by = serializers.CharField(
        default="instance",
        help_text=gettext_lazy(
            "Comma-separated: team, instance, month, day (e.g. instance,day). Default instance."
        ),
    )
    since = serializers.DateField(
        required=False, help_text=gettext_lazy("First billing day (default: this month's first).")
    )
    until = serializers.DateField(
        required=False, help_text=gettext_lazy("Last billing day, included (default: today).")
    )
    team = serializers.SlugField(required=False)
    instance = serializers.CharField(required=False, max_length=16)
    region = serializers.CharField(required=False, max_length=32)
    charge_type = serializers.ChoiceField(choices=ChargeType.choices, required=False)

    def validate_group_by(self, value: str) -> list[str]:
        groups = [g.strip() for g in value.split(",") if g.strip()]
        unknown = [g for g in groups if g not in selectors.GROUPS]
        if not groups or unknown:
            raise serializers.ValidationError(
                _("Group by one or more of %(groups)s.") % {"groups": ", ".join(selectors.GROUPS)}
            )
        if len(set(groups)) != len(groups):
            raise serializers.ValidationError(_("Name each group once."))
        if "day" in groups and "month" in groups:
            raise serializers.ValidationError(_("Group by day or by month, not both."))
        return groups

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        today = money.billing_day(timezone.now())
        data.setdefault("until", today)
        data.setdefault("since", money.month_start(data["until"]))
        if data["since"] > data["until"]:
            raise serializers.ValidationError({"since": [_("since must not be after until.")]})
        if data["until"] - data["since"] > timedelta(days=MAX_REPORT_DAYS):
            raise serializers.ValidationError(
                {"since": [_("A report covers at most %(days)s days.") % {"days": MAX_REPORT_DAYS}]}
            )
        return data
