"""Dashboard forms for instances; the rules are those of the API (``instances.validation``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Team
from instances import catalog, validation
from instances.models import ChargeType, StopMode, Template, WebUILanguage
from instances.services import NewInstance

PERIOD_CHOICES = [(str(p), str(p)) for p in validation.PREPAID_PERIODS["Month"]]


def disk_and_bandwidth(data: Any) -> dict[str, Any]:
    """The wizard's disk and bandwidth choices from its (not yet validated) data, each one the
    default when it is missing or out of range: what the summary and the estimate price."""
    chosen = dict(validation.DEFAULT_DISK)
    if data.get("system_disk_category") in dict(validation.DISK_CATEGORIES):
        chosen["system_disk_category"] = data["system_disk_category"]
    for field, (low, high) in (
        ("system_disk_size", validation.DISK_SIZE_RANGE),
        ("bandwidth_out", validation.BANDWIDTH_RANGE),
    ):
        try:
            value = int(data.get(field) or chosen[field])
        except (TypeError, ValueError):
            continue
        if low <= value <= high:
            chosen[field] = value
    return chosen


class InstanceForm(forms.Form):
    """The create wizard. Field names match the API's so that errors read the same."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=64)
    template = forms.ChoiceField(
        label=gettext_lazy("WebUI"),
        choices=Template.choices,
        initial=Template.SD_WEBUI,
        widget=forms.RadioSelect,
    )
    webui_language = forms.ChoiceField(
        label=gettext_lazy("WebUI language"),
        choices=[("", gettext_lazy("The same as my dashboard")), *WebUILanguage.choices],
        required=False,
    )
    region = forms.ChoiceField(label=gettext_lazy("Region"))
    zone = forms.ChoiceField(label=gettext_lazy("Zone"))
    instance_type = forms.CharField(label=gettext_lazy("GPU instance type"))
    charge_type = forms.ChoiceField(
        label=gettext_lazy("Billing"),
        choices=ChargeType.choices,
        initial=ChargeType.POSTPAID,
        widget=forms.RadioSelect,
    )
    period = forms.TypedChoiceField(
        label=gettext_lazy("Subscription length (months)"),
        choices=PERIOD_CHOICES,
        coerce=int,
        required=False,
        initial="1",
    )
    auto_renew = forms.BooleanField(label=gettext_lazy("Renew automatically"), required=False)
    network = forms.ChoiceField(
        label=gettext_lazy("Network"),
        choices=[
            ("new", gettext_lazy("Create a new VPC and vSwitch")),
            ("existing", gettext_lazy("Use an existing VPC and vSwitch")),
        ],
        initial="new",
        widget=forms.RadioSelect,
    )
    vpc_cidr = forms.CharField(label=gettext_lazy("VPC CIDR block"), initial="192.168.0.0/16")
    vswitch_cidr = forms.CharField(
        label=gettext_lazy("vSwitch CIDR block"), initial="192.168.0.0/24"
    )
    vpc_id = forms.CharField(label=gettext_lazy("VPC id"), required=False)
    vswitch_id = forms.CharField(label=gettext_lazy("vSwitch id"), required=False)
    public_access = forms.BooleanField(
        label=gettext_lazy("Open the WebUI to the whole internet"), required=False
    )
    system_disk_category = forms.ChoiceField(
        label=gettext_lazy("System disk"),
        choices=validation.DISK_CATEGORIES,
        initial=validation.DEFAULT_DISK["system_disk_category"],
        required=False,
    )
    system_disk_size = forms.IntegerField(
        label=gettext_lazy("System disk size (GB)"),
        min_value=validation.DISK_SIZE_RANGE[0],
        max_value=validation.DISK_SIZE_RANGE[1],
        initial=validation.DEFAULT_DISK["system_disk_size"],
        required=False,
        help_text=gettext_lazy("Models live on it: a checkpoint takes 2 to 7 GB."),
    )
    bandwidth_out = forms.IntegerField(
        label=gettext_lazy("Outbound bandwidth (Mbit/s)"),
        min_value=validation.BANDWIDTH_RANGE[0],
        max_value=validation.BANDWIDTH_RANGE[1],
        initial=validation.DEFAULT_DISK["bandwidth_out"],
        required=False,
        help_text=gettext_lazy("How fast images leave the host; downloads to it are not limited."),
    )
    host_password = forms.CharField(
        label=gettext_lazy("Host login password (optional)"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.team = team
        regions = catalog.regions()
        self.fields["region"].choices = [(r.region_id, r.local_name) for r in regions]
        region = (
            self.data.get("region")
            or self.initial.get("region")
            or (regions[0].region_id if regions else "")
        )
        zones = catalog.zones(region) if region in {r.region_id for r in regions} else []
        self.fields["zone"].choices = [(z.zone_id, z.local_name) for z in zones]

    def _check(self, field: str, check: Any) -> Any:
        value = self.cleaned_data.get(field, "")
        try:
            return check(value)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None

    def clean_name(self) -> str:
        value = self.cleaned_data["name"].strip()
        try:
            validation.validate_instance_name(value)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None
        return value

    def clean_vpc_cidr(self) -> str:
        if self.data.get("network") == "existing":
            return ""
        return str(
            self._check(
                "vpc_cidr",
                lambda v: validation.parse_private_cidr(
                    v, masks=validation.VPC_MASKS, label=_("The VPC CIDR block")
                ),
            )
        )

    def clean_vswitch_cidr(self) -> str:
        if self.data.get("network") == "existing":
            return ""
        return str(
            self._check(
                "vswitch_cidr",
                lambda v: validation.parse_private_cidr(
                    v, masks=validation.VSWITCH_MASKS, label=_("The vSwitch CIDR block")
                ),
            )
        )

    def clean_host_password(self) -> str:
        value = self.cleaned_data.get("host_password", "")
        if value:
            try:
                validation.validate_host_password(value)
            except ValidationError as exc:
                raise forms.ValidationError(exc.messages) from None
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("network") != "existing":
            data["vpc_id"] = data["vswitch_id"] = ""
        elif not data.get("vpc_id") and not data.get("vswitch_id"):
            self.add_error("vpc_id", _("Give the id of the existing VPC."))
            self.add_error("vswitch_id", _("Give the id of the existing vSwitch."))
        if data.get("charge_type") != ChargeType.PREPAID:
            data["period"] = None
        data["period_unit"] = "Month"
        data["team"] = self.team
        for field, messages in validation.validate_request(
            data, skip_fields=frozenset(self.errors)
        ).items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        return data

    def new_instance(self) -> NewInstance:
        data = self.cleaned_data
        return NewInstance(
            team=self.team,
            name=data["name"],
            template=data["template"],
            region=data["region"],
            zone=data["zone"],
            instance_type=data["instance_type"],
            charge_type=data["charge_type"],
            period=data.get("period"),
            period_unit=data["period_unit"] if data["charge_type"] == ChargeType.PREPAID else "",
            auto_renew=bool(data.get("auto_renew")),
            vpc_cidr=data.get("vpc_cidr") or "192.168.0.0/16",
            vswitch_cidr=data.get("vswitch_cidr") or "192.168.0.0/24",
            vpc_id=data.get("vpc_id", ""),
            vswitch_id=data.get("vswitch_id", ""),
            public_access=bool(data.get("public_access")),
            host_password=data.get("host_password", ""),
            webui_language=data.get("webui_language", ""),
            # Left empty: the defaults (200 GB ESSD, 10 Mbit/s).
            **{
                field: data.get(field) or default
                for field, default in validation.DEFAULT_DISK.items()
            },
        )


class StopForm(forms.Form):
    mode = forms.ChoiceField(
        choices=StopMode.choices, initial=StopMode.STOP_CHARGING, widget=forms.RadioSelect
    )


class ResizeForm(forms.Form):
    instance_type = forms.CharField()


class DeleteForm(forms.Form):
    confirm_name = forms.CharField()
    terminate_subscription = forms.BooleanField(required=False)
