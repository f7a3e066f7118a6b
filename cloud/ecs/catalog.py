"""ECS catalog: regions, zones, GPU instance types, their stock in each zone, and prices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from cloud.clients import ECS, call, request_model
from cloud.types import as_float, as_int, items, money

# How hosts are charged for their public bandwidth: by the configured Mbit/s, per hour (or per
# month on a subscription). Deploys use it and billing prices it.
INTERNET_CHARGE_TYPE = "PayByBandwidth"


@dataclass(frozen=True)
class Region:
    region_id: str
    local_name: str


@dataclass(frozen=True)
class Zone:
    zone_id: str
    local_name: str


@dataclass(frozen=True)
class InstanceTypeSpec:
    instance_type: str
    family: str
    cpu: int
    memory_gib: float
    gpu_amount: int
    gpu_spec: str
    gpu_memory_gib: float


@dataclass(frozen=True)
class Availability:
    """Whether a zone can launch an instance type now (``WithStock``) or not."""

    zone_id: str
    instance_type: str | None
    status: str
    status_category: str

    @property
    def in_stock(self) -> bool:
        return self.status == "Available" and self.status_category == "WithStock"


@dataclass(frozen=True)
class PriceComponent:
    original: Decimal
    discount: Decimal
    trade: Decimal


@dataclass(frozen=True)
class Price:
    """A DescribePrice answer; ``components`` keyed by resource (instanceType, systemDisk...)."""

    currency: str
    original: Decimal
    discount: Decimal
    trade: Decimal
    components: dict[str, PriceComponent]
    request_id: str | None = None
    # The cloud's pricing rules that applied (RuleId, Description), e.g. a yearly discount.
    rules: tuple[tuple[str, str], ...] = ()


def describe_regions(*, accept_language: str = "zh-CN") -> list[Region]:
    """Regions with their names in ``accept_language`` (``zh-CN``, ``en-US`` or ``ja``)."""
    request = request_model(ECS, "DescribeRegionsRequest", accept_language=accept_language)
    data = call(ECS, "cn-hangzhou", "DescribeRegions", request)
    return [
        Region(r["RegionId"], r.get("LocalName") or r["RegionId"])
        for r in items(data.get("Regions"), "Region")
    ]


def describe_zones(region: str, *, accept_language: str = "zh-CN") -> list[Zone]:
    request = request_model(
        ECS, "DescribeZonesRequest", region_id=region, accept_language=accept_language
    )
    data = call(ECS, region, "DescribeZones", request)
    return [
        Zone(z["ZoneId"], z.get("LocalName") or z["ZoneId"])
        for z in items(data.get("Zones"), "Zone")
    ]


def describe_instance_types(
    region: str, *, instance_types: Sequence[str] | None = None, family: str | None = None
) -> list[InstanceTypeSpec]:
    """Specs of instance types; GPU types are those with ``gpu_amount > 0``."""
    found: list[InstanceTypeSpec] = []
    next_token: str | None = None
    while True:
        request = request_model(
            ECS,
            "DescribeInstanceTypesRequest",
            instance_types=list(instance_types) if instance_types else None,
            instance_type_family=family,
            max_results=100,
            next_token=next_token,
        )
        data = call(ECS, region, "DescribeInstanceTypes", request)
        for t in items(data.get("InstanceTypes"), "InstanceType"):
            found.append(
                InstanceTypeSpec(
                    instance_type=t["InstanceTypeId"],
                    family=t.get("InstanceTypeFamily") or "",
                    cpu=as_int(t.get("CpuCoreCount")),
                    memory_gib=as_float(t.get("MemorySize")),
                    gpu_amount=as_int(t.get("GPUAmount")),
                    gpu_spec=t.get("GPUSpec") or "",
                    gpu_memory_gib=as_float(t.get("GPUMemorySize")),
                )
            )
        next_token = data.get("NextToken") or None
        if not next_token:
            return found


def describe_available_resource(
    region: str,
    *,
    zone_id: str | None = None,
    instance_type: str | None = None,
    charge_type: str = "PostPaid",
) -> list[Availability]:
    """Stock of instance types per zone, one entry per (zone, type)."""
    request = request_model(
        ECS,
        "DescribeAvailableResourceRequest",
        region_id=region,
        destination_resource="InstanceType",
        resource_type="instance",
        instance_charge_type=charge_type,
        zone_id=zone_id,
        instance_type=instance_type,
    )
    data = call(ECS, region, "DescribeAvailableResource", request)
    found: list[Availability] = []
    for zone in items(data.get("AvailableZones"), "AvailableZone"):
        for resource in items(zone.get("AvailableResources"), "AvailableResource"):
            if resource.get("Type") != "InstanceType":
                continue
            for supported in items(resource.get("SupportedResources"), "SupportedResource"):
                found.append(
                    Availability(
                        zone_id=zone["ZoneId"],
                        instance_type=supported.get("Value"),
                        status=supported.get("Status") or "",
                        status_category=supported.get("StatusCategory") or "",
                    )
                )
    return found


def describe_price(
    region: str,
    *,
    zone_id: str | None,
    instance_type: str,
    price_unit: str,
    period: int = 1,
    system_disk_category: str = "cloud_essd",
    system_disk_size: int = 200,
    internet_charge_type: str = INTERNET_CHARGE_TYPE,
    bandwidth_out: int = 10,
) -> Price:
    """The price of one instance: ``price_unit`` Hour for pay-as-you-go, Month/Year otherwise."""
    request = request_model(
        ECS,
        "DescribePriceRequest",
        region_id=region,
        zone_id=zone_id,
        resource_type="instance",
        instance_type=instance_type,
        price_unit=price_unit,
        period=period,
        instance_network_type="vpc",
        internet_charge_type=internet_charge_type,
        internet_max_bandwidth_out=bandwidth_out,
        system_disk=request_model(
            ECS,
            "DescribePriceRequestSystemDisk",
            category=system_disk_category,
            size=system_disk_size,
        ),
    )
    data = call(ECS, region, "DescribePrice", request)
    price = (data.get("PriceInfo") or {}).get("Price") or {}
    components = {
        d["Resource"]: PriceComponent(
            original=money(d.get("OriginalPrice")),
            discount=money(d.get("DiscountPrice")),
            trade=money(d.get("TradePrice")),
        )
        for d in items(price.get("DetailInfos"), "DetailInfo")
        if d.get("Resource")
    }
    return Price(
        currency=price.get("Currency") or "CNY",
        original=money(price.get("OriginalPrice")),
        discount=money(price.get("DiscountPrice")),
        trade=money(price.get("TradePrice")),
        components=components,
        request_id=data.get("RequestId"),
        rules=tuple(
            (str(rule.get("RuleId", "")), str(rule.get("Description", "")))
            for rule in items((data.get("PriceInfo") or {}).get("Rules"), "Rule")
        ),
    )
