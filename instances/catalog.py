"""What the cloud offers: regions, zones, GPU instance types and their stock, cached.

Regions, zones and types change rarely (cached ``NESTOPS_CATALOG_TTL_SECONDS``); stock changes
by the minute (cached ``NESTOPS_STOCK_TTL_SECONDS``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from nestops.cloud import CloudError, ecs

T = TypeVar("T")


def _cached(key: str, ttl: int, compute: Callable[[], T]) -> T:
    found = cache.get(key)
    if found is None:
        found = compute()
        if ttl:
            cache.set(key, found, ttl)
    return found


def regions() -> list[ecs.Region]:
    found = _cached("catalog:regions", settings.NESTOPS_CATALOG_TTL_SECONDS, ecs.describe_regions)
    if settings.NESTOPS_REGIONS:
        return [r for r in found if r.region_id in settings.NESTOPS_REGIONS]
    return found


def zones(region: str) -> list[ecs.Zone]:
    return _cached(
        f"catalog:zones:{region}",
        settings.NESTOPS_CATALOG_TTL_SECONDS,
        lambda: ecs.describe_zones(region),
    )


def gpu_types(region: str) -> dict[str, ecs.InstanceTypeSpec]:
    def compute() -> dict[str, ecs.InstanceTypeSpec]:
        return {t.instance_type: t for t in ecs.describe_instance_types(region) if t.gpu_amount > 0}

    return _cached(f"catalog:types:{region}", settings.NESTOPS_CATALOG_TTL_SECONDS, compute)


def availability(region: str, charge_type: str = "PostPaid") -> dict[tuple[str, str], bool]:
    """(zone, instance type) -> in stock, for every type the region's zones offer."""

    def compute() -> dict[tuple[str, str], bool]:
        return {
            (a.zone_id, a.instance_type or ""): a.in_stock
            for a in ecs.describe_available_resource(region, charge_type=charge_type)
        }

    return _cached(
        f"catalog:stock:{region}:{charge_type}", settings.NESTOPS_STOCK_TTL_SECONDS, compute
    )


def forget_stock(region: str) -> None:
    for charge_type in ("PostPaid", "PrePaid"):
        cache.delete(f"catalog:stock:{region}:{charge_type}")


@dataclass(frozen=True)
class Offer:
    """A GPU instance type as offered in one zone."""

    instance_type: str
    family: str
    cpu: int
    memory_gib: float
    gpu_amount: int
    gpu_spec: str
    gpu_memory_gib: float
    zone_id: str
    in_stock: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def offers(region: str, zone_id: str, charge_type: str = "PostPaid") -> list[Offer]:
    """GPU types offered in a zone, in stock or sold out, smallest first."""
    types = gpu_types(region)
    stock = availability(region, charge_type)
    found = [
        Offer(zone_id=zone_id, in_stock=in_stock, **_spec(types[name]))
        for (zone, name), in_stock in stock.items()
        if zone == zone_id and name in types
    ]
    return sorted(found, key=lambda o: (o.gpu_amount, o.cpu, o.memory_gib, o.instance_type))


def _spec(spec: ecs.InstanceTypeSpec) -> dict[str, Any]:
    return {
        "instance_type": spec.instance_type,
        "family": spec.family,
        "cpu": spec.cpu,
        "memory_gib": spec.memory_gib,
        "gpu_amount": spec.gpu_amount,
        "gpu_spec": spec.gpu_spec,
        "gpu_memory_gib": spec.gpu_memory_gib,
    }


def image_for(template: str, region: str) -> str | None:
    images = settings.NESTOPS_IMAGES.get(template) or {}
    return images.get(region) or images.get("*")


def check_offer(
    *, region: str, zone: str, instance_type: str, charge_type: str, template: str
) -> dict[str, list[str]]:
    """Field errors for a (region, zone, type) choice; empty when it can be launched now."""
    if region not in {r.region_id for r in regions()}:
        return {"region": [_("Region %(region)s is not offered.") % {"region": region}]}
    errors: dict[str, list[str]] = {}
    if image_for(template, region) is None:
        errors["template"] = [
            _("No image is configured for %(template)s in %(region)s (NESTOPS_IMAGES).")
            % {"template": template, "region": region}
        ]
    if zone not in {z.zone_id for z in zones(region)}:
        errors["zone"] = [
            _("Zone %(zone)s is not in region %(region)s.") % {"zone": zone, "region": region}
        ]
        return errors
    types = gpu_types(region)
    if instance_type not in types:
        errors["instance_type"] = [
            _("%(type)s is not a GPU instance type.") % {"type": instance_type}
        ]
        return errors
    stock = availability(region, charge_type)
    if (zone, instance_type) not in stock:
        errors["instance_type"] = [
            _("%(type)s is not offered in zone %(zone)s.") % {"type": instance_type, "zone": zone}
        ]
    elif not stock[(zone, instance_type)]:
        errors["instance_type"] = [
            _(
                "%(type)s is sold out in zone %(zone)s right now. Pick another zone or type, "
                "or try again later."
            )
            % {"type": instance_type, "zone": zone}
        ]
    return errors


@dataclass(frozen=True)
class Price:
    """What a host costs, from DescribePrice; ``error`` says why a figure is missing."""

    currency: str = "CNY"
    per_hour: Decimal | None = None
    per_month: Decimal | None = None
    stopped_per_hour: Decimal | None = None
    error: str = ""


HOURS_PER_MONTH = Decimal("730")
PRICE_TTL_SECONDS = 600


def price(
    *,
    region: str,
    zone: str,
    instance_type: str,
    charge_type: str = "PostPaid",
    period: int = 1,
    period_unit: str = "Month",
    system_disk_size: int = 200,
    bandwidth_out: int = 10,
) -> Price:
    """Hourly and monthly price of a host (cached): pay-as-you-go per hour, or a subscription
    per month; ``stopped_per_hour`` is what a save-stopped host still costs (disk, bandwidth)."""
    key = (
        f"catalog:price:{region}:{zone}:{instance_type}:{charge_type}:{period}{period_unit}:"
        f"{system_disk_size}:{bandwidth_out}"
    )

    def compute() -> Price:
        try:
            if charge_type == "PrePaid":
                quote = ecs.describe_price(
                    region,
                    zone_id=zone,
                    instance_type=instance_type,
                    price_unit=period_unit,
                    period=period,
                    system_disk_size=system_disk_size,
                    bandwidth_out=bandwidth_out,
                )
                months = Decimal(period) if period_unit == "Month" else Decimal(period) / 4
                return Price(
                    currency=quote.currency,
                    per_month=(quote.trade / months).quantize(Decimal("0.01")),
                )
            quote = ecs.describe_price(
                region,
                zone_id=zone,
                instance_type=instance_type,
                price_unit="Hour",
                system_disk_size=system_disk_size,
                bandwidth_out=bandwidth_out,
            )
        except CloudError as exc:
            return Price(error=f"{exc.code}: {exc.message}")
        stopped = sum(
            (c.trade for name, c in quote.components.items() if name != "instanceType"),
            Decimal("0"),
        )
        return Price(
            currency=quote.currency,
            per_hour=quote.trade,
            per_month=(quote.trade * HOURS_PER_MONTH).quantize(Decimal("0.01")),
            stopped_per_hour=stopped,
        )

    found = cache.get(key)
    if found is None:
        found = compute()
        if not found.error:
            cache.set(key, found, PRICE_TTL_SECONDS)
    return found
