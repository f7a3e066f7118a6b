"""What the cloud offers: regions, zones, GPU instance types and their stock, cached.

Regions, zones and types change rarely (cached ``NESTOPS_CATALOG_TTL_SECONDS``); stock changes
by the minute (cached ``NESTOPS_STOCK_TTL_SECONDS``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cloud import ecs
from images import selectors as images_selectors

T = TypeVar("T")


def _cached(key: str, ttl: int, compute: Callable[[], T]) -> T:
    found = cache.get(key)
    if found is None:
        found = compute()
        if ttl:
            cache.set(key, found, ttl)
    return found


def cloud_language() -> str:
    """The cloud's AcceptLanguage for the page's language: region and zone names follow it."""
    return "zh-CN" if (get_language() or "").startswith("zh") else "en-US"


def regions() -> list[ecs.Region]:
    language = cloud_language()
    found = _cached(
        f"catalog:regions:{language}",
        settings.NESTOPS_CATALOG_TTL_SECONDS,
        lambda: ecs.describe_regions(accept_language=language),
    )
    if settings.NESTOPS_REGIONS:
        return [r for r in found if r.region_id in settings.NESTOPS_REGIONS]
    return found


def zones(region: str) -> list[ecs.Zone]:
    language = cloud_language()
    return _cached(
        f"catalog:zones:{region}:{language}",
        settings.NESTOPS_CATALOG_TTL_SECONDS,
        lambda: ecs.describe_zones(region, accept_language=language),
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
    """The image a deploy of ``template`` in ``region`` uses: NESTOPS_IMAGES when it names one
    (an override), else the newest image nestops built there, else cloudsim's ready-made one."""
    override = settings.NESTOPS_IMAGES.get(template) or {}
    if override.get(region) or override.get("*"):
        return override.get(region) or override.get("*")
    built = images_selectors.built_image(template=template, region=region)
    if built is not None:
        return built
    simulated = settings.NESTOPS_SIM_IMAGES.get(template) or {}
    return simulated.get(region) or simulated.get("*")


def check_offer(
    *, region: str, zone: str, instance_type: str, charge_type: str, template: str
) -> dict[str, list[str]]:
    """Field errors for a (region, zone, type) choice; empty when it can be launched now."""
    if region not in {r.region_id for r in regions()}:
        return {"region": [_("Region %(region)s is not offered.") % {"region": region}]}
    errors: dict[str, list[str]] = {}
    if image_for(template, region) is None:
        errors["template"] = [
            _(
                "No image of %(template)s exists in %(region)s yet: build one on the Images "
                "page (or name one in NESTOPS_IMAGES)."
            )
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
