"""Rules for what a user may ask for, shared by the API serializers, forms and services.

Each check raises ``django.core.exceptions.ValidationError`` with a message that says what is
wrong and what would be right, so the same words reach the API and the dashboard.
"""

from __future__ import annotations

import ipaddress
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The Compute Nest rule for the host login password.
PASSWORD_SPECIALS = "()`~!@#$%^&*-+=|{}[]:;'<>,.?/"
PASSWORD_MIN, PASSWORD_MAX = 8, 30
PRIVATE_RANGES = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
VPC_MASKS = (8, 24)
VSWITCH_MASKS = (16, 29)
NAME_PATTERN = re.compile(r"^[A-Za-z\u4e00-\u9fff][A-Za-z0-9\u4e00-\u9fff._-]{1,63}$")
CLOUD_ID_PATTERN = re.compile(r"^[a-z]+-[a-z0-9]{6,40}$")
PREPAID_PERIODS = {"Month": (1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36, 48, 60), "Week": (1, 2, 3, 4)}


# The system disk and bandwidth a host may have (the wizard and the API offer the same).
DISK_CATEGORIES = [
    ("cloud_essd", gettext_lazy("ESSD (enhanced SSD)")),
    ("cloud_ssd", gettext_lazy("Standard SSD")),
    ("cloud_efficiency", gettext_lazy("Ultra disk")),
]
DISK_SIZE_RANGE = (40, 2048)
BANDWIDTH_RANGE = (1, 100)
DEFAULT_DISK = {"system_disk_category": "cloud_essd", "system_disk_size": 200, "bandwidth_out": 10}


def validate_instance_name(name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise ValidationError(
            _(
                "Use 2 to 64 characters: letters, digits, Chinese characters, '.', '_' or '-', "
                "starting with a letter or a Chinese character."
            ),
            code="invalid_name",
        )


def validate_host_password(password: str) -> None:
    """8-30 characters with at least three of: upper case, lower case, digits, specials."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ValidationError(
            _("The password must be 8 to 30 characters long."), code="password_length"
        )
    allowed = set(PASSWORD_SPECIALS)
    if any(not (c.isascii() and (c.isalnum() or c in allowed)) for c in password):
        raise ValidationError(
            _("The password may contain only letters, digits and %(specials)s")
            % {"specials": PASSWORD_SPECIALS},
            code="password_characters",
        )
    kinds = sum(
        (
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(c in allowed for c in password),
        )
    )
    if kinds < 3:
        raise ValidationError(
            _(
                "The password must contain at least three of: upper case letters, lower case "
                "letters, digits and special characters %(specials)s"
            )
            % {"specials": PASSWORD_SPECIALS},
            code="password_weak",
        )


def parse_private_cidr(value: str, *, masks: tuple[int, int], label: str) -> ipaddress.IPv4Network:
    text = value.strip()
    try:
        loose = ipaddress.IPv4Network(text, strict=False)
    except ValueError:
        raise ValidationError(
            _("%(label)s must be an IPv4 CIDR block such as 192.168.0.0/16.") % {"label": label},
            code="cidr_invalid",
        ) from None
    if "/" not in text:
        raise ValidationError(
            _("%(label)s needs a mask, such as %(value)s/16.") % {"label": label, "value": text},
            code="cidr_invalid",
        )
    if loose.network_address != ipaddress.IPv4Address(text.split("/")[0]):
        raise ValidationError(
            _("%(label)s %(value)s has host bits set; did you mean %(network)s?")
            % {"label": label, "value": text, "network": loose},
            code="cidr_host_bits",
        )
    network = loose
    if not any(network.subnet_of(r) for r in PRIVATE_RANGES):
        raise ValidationError(
            _("%(label)s must lie inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16.")
            % {"label": label},
            code="cidr_not_private",
        )
    low, high = masks
    if not low <= network.prefixlen <= high:
        raise ValidationError(
            _("%(label)s must have a mask between /%(low)d and /%(high)d.")
            % {"label": label, "low": low, "high": high},
            code="cidr_mask",
        )
    return network


def validate_network(vpc_cidr: str, vswitch_cidr: str) -> dict[str, list[str]]:
    """Field errors for a new VPC + vSwitch, keyed by field name (empty when valid)."""
    errors: dict[str, list[str]] = {}
    vpc = vswitch = None
    try:
        vpc = parse_private_cidr(vpc_cidr, masks=VPC_MASKS, label=_("The VPC CIDR block"))
    except ValidationError as exc:
        errors["vpc_cidr"] = exc.messages
    try:
        vswitch = parse_private_cidr(
            vswitch_cidr, masks=VSWITCH_MASKS, label=_("The vSwitch CIDR block")
        )
    except ValidationError as exc:
        errors["vswitch_cidr"] = exc.messages
    if vpc is not None and vswitch is not None and not vswitch.subnet_of(vpc):
        errors["vswitch_cidr"] = [
            _("The vSwitch CIDR block %(vswitch)s must lie inside the VPC CIDR block %(vpc)s.")
            % {"vswitch": vswitch, "vpc": vpc}
        ]
    return errors


def validate_cloud_id(value: str, prefix: str, label: str) -> None:
    if not value.startswith(prefix + "-") or not CLOUD_ID_PATTERN.match(value):
        raise ValidationError(
            _("%(label)s must look like %(prefix)s-xxxxxxxx.") % {"label": label, "prefix": prefix},
            code="cloud_id",
        )


def validate_period(charge_type: str, period: int | None, period_unit: str | None) -> None:
    if charge_type != "PrePaid":
        return
    unit = period_unit or "Month"
    if unit not in PREPAID_PERIODS:
        raise ValidationError(_("The period unit must be Month or Week."), code="period_unit")
    if period is None or period not in PREPAID_PERIODS[unit]:
        allowed = ", ".join(str(p) for p in PREPAID_PERIODS[unit])
        raise ValidationError(
            _("A subscription needs a period of %(allowed)s %(unit)s(s).")
            % {"allowed": allowed, "unit": unit},
            code="period",
        )


def validate_request(
    data: dict, *, skip_fields: frozenset[str] = frozenset()
) -> dict[str, list[str]]:
    """Checks across fields of a new instance (the API and the dashboard share them).

    ``data`` holds cleaned values: team, name, template, region, zone, instance_type,
    charge_type, period, period_unit, vpc_cidr, vswitch_cidr, vpc_id, vswitch_id.
    Fields in ``skip_fields`` already failed their own checks and are not looked at again.
    Returns field errors; empty when the instance can be deployed now.
    """
    from instances import catalog
    from instances.models import ServiceInstance

    errors: dict[str, list[str]] = {}
    vpc_id, vswitch_id = data.get("vpc_id") or "", data.get("vswitch_id") or ""
    if vpc_id or vswitch_id:
        if not (vpc_id and vswitch_id):
            errors["vswitch_id" if vpc_id else "vpc_id"] = [
                _("Give both an existing VPC and an existing vSwitch, or neither.")
            ]
        for field, value, prefix, label in (
            ("vpc_id", vpc_id, "vpc", _("The VPC id")),
            ("vswitch_id", vswitch_id, "vsw", _("The vSwitch id")),
        ):
            if value:
                try:
                    validate_cloud_id(value, prefix, label)
                except ValidationError as exc:
                    errors[field] = exc.messages
    elif not {"vpc_cidr", "vswitch_cidr"} & skip_fields:
        errors.update(validate_network(data["vpc_cidr"], data["vswitch_cidr"]))
    if not {"period", "period_unit", "charge_type"} & skip_fields:
        try:
            validate_period(data["charge_type"], data.get("period"), data.get("period_unit"))
        except ValidationError as exc:
            errors["period"] = exc.messages
    team = data.get("team")
    if (
        team is not None
        and "name" not in skip_fields
        and data.get("name")
        and ServiceInstance.objects.alive().filter(team=team, name=data["name"]).exists()
    ):
        errors["name"] = [
            _("Your team already has an instance named %(name)s.") % {"name": data["name"]}
        ]
    offer_fields = {"region", "zone", "instance_type", "charge_type", "template"}
    if not errors and not offer_fields & skip_fields:
        errors.update(
            catalog.check_offer(
                region=data["region"],
                zone=data["zone"],
                instance_type=data["instance_type"],
                charge_type=data["charge_type"],
                template=data["template"],
            )
        )
    return errors
