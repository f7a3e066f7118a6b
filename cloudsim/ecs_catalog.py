"""ECS calls about the offer: regions, zones, instance types, live availability and prices."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cloudsim import pricing
from cloudsim.api import Call, action
from cloudsim.catalog import SYSTEM_DISK_CATEGORIES, InstanceType, Zone
from cloudsim.errors import CloudError, invalid
from cloudsim.paging import page_by_offset_token

if TYPE_CHECKING:
    from cloudsim.simulator import Simulator


# AcceptLanguage picks the language of LocalName, as the real API does (zh-CN by default).
LANGUAGES = ("zh-CN", "en-US", "ja")


def _english(call: Call) -> bool:
    return call.params.text("AcceptLanguage", default="zh-CN", choices=LANGUAGES) != "zh-CN"


@action("Ecs", "DescribeRegions", mutates=False)
def describe_regions(sim: Simulator, call: Call) -> dict[str, Any]:
    english = _english(call)
    return {
        "Regions": {
            "Region": [
                {
                    "RegionId": region.region_id,
                    "LocalName": region.english_name if english else region.local_name,
                    "RegionEndpoint": region.endpoint,
                    "Status": "available",
                }
                for region in sim.catalog.regions.values()
            ]
        }
    }


@action("Ecs", "DescribeZones", mutates=False)
def describe_zones(sim: Simulator, call: Call) -> dict[str, Any]:
    region = sim.catalog.region(call.params.required("RegionId"))
    english = _english(call)
    zones = []
    for zone in region.zones:
        zones.append(
            {
                "ZoneId": zone.zone_id,
                "LocalName": zone.english_name if english else zone.local_name,
                "ZoneType": "AvailabilityZone",
                "AvailableInstanceTypes": {"InstanceTypes": list(zone.offered)},
                "AvailableResourceCreation": {
                    "ResourceTypes": ["VSwitch", "IoOptimized", "Instance", "Disk"]
                },
                "AvailableDiskCategories": {"DiskCategories": list(SYSTEM_DISK_CATEGORIES)},
                "AvailableVolumeCategories": {"VolumeCategories": []},
                "AvailableDedicatedHostTypes": {"DedicatedHostType": []},
                "DedicatedHostGenerations": {"DedicatedHostGeneration": []},
                "AvailableResources": {
                    "ResourcesInfo": [
                        {
                            "IoOptimized": True,
                            "InstanceTypes": {"supportedInstanceType": list(zone.offered)},
                            "InstanceTypeFamilies": {
                                "supportedInstanceTypeFamily": sorted(
                                    {sim.catalog.instance_types[t].family for t in zone.offered}
                                )
                            },
                            "InstanceGenerations": {"supportedInstanceGeneration": ["ecs-4"]},
                            "NetworkTypes": {"supportedNetworkCategory": ["vpc"]},
                            "SystemDiskCategories": {
                                "supportedSystemDiskCategory": list(SYSTEM_DISK_CATEGORIES)
                            },
                            "DataDiskCategories": {
                                "supportedDataDiskCategory": list(SYSTEM_DISK_CATEGORIES)
                            },
                        }
                    ]
                },
            }
        )
    return {"Zones": {"Zone": zones}}


def type_view(kind: InstanceType) -> dict[str, Any]:
    return {
        "InstanceTypeId": kind.instance_type,
        "InstanceTypeFamily": kind.family,
        "InstanceCategory": "GPU-accelerated",
        "InstanceFamilyLevel": "EnterpriseLevel",
        "CpuArchitecture": "X86",
        "CpuCoreCount": kind.cpu,
        "MemorySize": float(kind.memory_gib),
        "GPUAmount": kind.gpu_amount,
        "GPUSpec": kind.gpu_spec,
        "GPUMemorySize": float(kind.gpu_memory_gib),
        "PhysicalProcessorModel": kind.processor,
        "InstanceBandwidthRx": kind.bandwidth_mbps * 1024,
        "InstanceBandwidthTx": kind.bandwidth_mbps * 1024,
        "InstancePpsRx": 500_000,
        "InstancePpsTx": 500_000,
        "EniQuantity": 4,
        "EniPrivateIpAddressQuantity": 10,
        "EniIpv6AddressQuantity": 1,
        "EniTotalQuantity": 4,
        "LocalStorageCategory": "",
        "LocalStorageAmount": 0,
        "LocalStorageCapacity": 0,
        "NvmeSupport": "required",
        "DiskQuantity": 17,
        "SupportedBootModes": {"SupportedBootMode": ["BIOS", "UEFI"]},
    }


@action("Ecs", "DescribeInstanceTypes", mutates=False)
def describe_instance_types(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    wanted = params.items("InstanceTypes", max_items=10)
    family = params.text("InstanceTypeFamily")
    kinds = [
        kind
        for kind in sim.catalog.instance_types.values()
        if (not wanted or kind.instance_type in wanted) and (not family or kind.family == family)
    ]
    page, token = page_by_offset_token(params, kinds, default_size=100, max_size=1600)
    return {
        "InstanceTypes": {"InstanceType": [type_view(kind) for kind in page]},
        "NextToken": token,
    }


def _availability(zone: Zone, instance_type: str, stock: int) -> tuple[str, str]:
    closed = instance_type in zone.closed
    if stock > 0:
        return "Available", "ClosedWithStock" if closed else "WithStock"
    return "SoldOut", "ClosedWithoutStock" if closed else "WithoutStock"


@action("Ecs", "DescribeAvailableResource", mutates=False)
def describe_available_resource(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region = sim.catalog.region(params.required("RegionId"))
    destination = params.required("DestinationResource")
    if destination not in ("Zone", "InstanceType"):
        raise invalid(
            "DestinationResource", "cloudsim answers Zone and InstanceType.", "InvalidParameter"
        )
    params.text("ResourceType", default="instance", choices=("instance",))
    params.text("InstanceChargeType", default="PostPaid", choices=("PostPaid", "PrePaid"))
    wanted_type = params.text("InstanceType")
    if wanted_type is not None:
        sim.catalog.instance_type(wanted_type)
    wanted_zone = params.text("ZoneId")
    if wanted_zone is not None:
        sim.catalog.zone(wanted_zone, region.region_id)

    zones = []
    for zone in region.zones:
        if wanted_zone and zone.zone_id != wanted_zone:
            continue
        offered = [t for t in zone.offered if not wanted_type or t == wanted_type]
        if not offered:
            continue
        supported = []
        for instance_type in offered:
            status, category = _availability(
                zone, instance_type, sim.state.stock.get((zone.zone_id, instance_type), 0)
            )
            supported.append({"Value": instance_type, "Status": status, "StatusCategory": category})
        in_stock = [s for s in supported if s["Status"] == "Available"]
        zone_status = "Available" if in_stock else "SoldOut"
        if in_stock:
            zone_category = (
                "WithStock"
                if any(s["StatusCategory"] == "WithStock" for s in in_stock)
                else "ClosedWithStock"
            )
        else:
            zone_category = "WithoutStock"
        if destination == "Zone":
            resources = [
                {
                    "Type": "Zone",
                    "SupportedResources": {
                        "SupportedResource": [
                            {
                                "Value": zone.zone_id,
                                "Status": zone_status,
                                "StatusCategory": zone_category,
                            }
                        ]
                    },
                }
            ]
        else:
            resources = [
                {"Type": "InstanceType", "SupportedResources": {"SupportedResource": supported}}
            ]
        zones.append(
            {
                "ZoneId": zone.zone_id,
                "RegionId": region.region_id,
                "Status": zone_status,
                "StatusCategory": zone_category,
                "AvailableResources": {"AvailableResource": resources},
            }
        )
    return {"AvailableZones": {"AvailableZone": zones}}


@action("Ecs", "DescribePrice", mutates=False)
def describe_price(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region = sim.catalog.region(params.required("RegionId"))
    params.text("ResourceType", default="instance", choices=("instance",))
    instance_type = sim.catalog.instance_type(params.required("InstanceType")).instance_type
    zone_id = params.text("ZoneId")
    if zone_id is not None:
        zone = sim.catalog.zone(zone_id, region.region_id)
        if instance_type not in zone.offered:
            raise CloudError(
                "InvalidInstanceType.ZoneNotSupported",
                f"The specified zone does not support this InstanceType: {instance_type}.",
                403,
            )
    unit = params.text("PriceUnit", default="Hour", choices=tuple(pricing.PERIODS)) or "Hour"
    allowed = pricing.PERIODS[unit]
    period = params.integer(
        "Period", default=1, minimum=allowed.start, maximum=allowed.stop - 1, code="InvalidPeriod"
    )
    params.text("InstanceNetworkType", default="vpc", choices=("vpc",))
    internet_charge_type = params.text(
        "InternetChargeType",
        default="PayByTraffic",
        choices=("PayByTraffic", "PayByBandwidth"),
        code="InvalidInternetChargeType.ValueNotSupported",
    )
    bandwidth = params.integer("InternetMaxBandwidthOut", default=0, minimum=0, maximum=100)
    category = params.text(
        "SystemDisk.Category",
        default="cloud_efficiency",
        choices=SYSTEM_DISK_CATEGORIES,
        code="InvalidSystemDiskCategory.ValueNotSupported",
    )
    disk_size = params.integer("SystemDisk.Size", default=40, minimum=20, maximum=2048)
    amount = params.integer("Amount", default=1, minimum=1, maximum=100)
    assert period is not None and bandwidth is not None and disk_size is not None
    assert internet_charge_type is not None and category is not None and amount is not None
    quote = pricing.quote(
        sim.catalog,
        instance_type=instance_type,
        price_unit=unit,
        period=period,
        disk_category=category,
        disk_size=disk_size,
        internet_charge_type=internet_charge_type,
        bandwidth_mbps=bandwidth,
        amount=amount,
    )
    return {
        "PriceInfo": {
            "Price": {
                "OriginalPrice": quote.original,
                "DiscountPrice": quote.discount,
                "TradePrice": quote.trade,
                "Currency": quote.currency,
                "DetailInfos": {
                    "DetailInfo": [
                        {
                            "Resource": line.resource,
                            "OriginalPrice": line.original,
                            "DiscountPrice": line.discount,
                            "TradePrice": line.trade,
                            "SubRules": {"Rule": list(quote.rules)},
                        }
                        for line in quote.lines
                    ]
                },
            },
            "Rules": {"Rule": list(quote.rules)},
        }
    }
