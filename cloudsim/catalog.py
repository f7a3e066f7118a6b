"""The static offer of the simulated cloud, loaded from ``cloudsim/data/*.json``.

Regions, zones, GPU instance types, images, list prices and the initial stock. The figures are
illustrative (CNY), chosen to look like the real console, not copied from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cloudsim.errors import CloudError

DATA_DIR = Path(__file__).resolve().parent / "data"
SYSTEM_DISK_CATEGORIES = ("cloud_essd", "cloud_ssd", "cloud_efficiency")
# The simulated account: VPC OwnerId, CloudMonitor userId.
ACCOUNT_ID = 1234567890123456


@dataclass(frozen=True)
class InstanceType:
    """A GPU instance type and what one host of it has."""

    instance_type: str
    family: str
    cpu: int
    memory_gib: int
    gpu_amount: int
    gpu_spec: str
    gpu_memory_gib: int
    processor: str
    bandwidth_mbps: int

    @property
    def memory_mib(self) -> int:
        return self.memory_gib * 1024


@dataclass(frozen=True)
class Zone:
    zone_id: str
    region_id: str
    local_name: str
    english_name: str
    offered: tuple[str, ...]
    closed: frozenset[str]


@dataclass(frozen=True)
class Region:
    region_id: str
    local_name: str
    english_name: str
    endpoint: str
    id_prefix: str
    zones: tuple[Zone, ...]


@dataclass(frozen=True)
class Image:
    image_id: str
    image_name: str
    os_name: str
    os_name_en: str
    os_type: str
    size_gib: int
    owner_alias: str = "system"
    # ``webui``: the ready WebUI host layout; ``base``: an operating system without the WebUI.
    layout: str = "webui"
    # ``none``, ``driver`` (NVIDIA driver) or ``ai`` (driver, CUDA and PyTorch).
    gpu: str = "driver"
    description: str = ""

    @property
    def platform(self) -> str:
        return "Windows Server 2022" if self.os_type == "windows" else "Ubuntu"


class Catalog:
    """Read-only lookups over the data files; errors are the cloud's NotFound codes."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        regions = _load(data_dir / "regions.json")["regions"]
        stock = _load(data_dir / "stock.json")["zones"]
        self.instance_types: dict[str, InstanceType] = {
            item["instance_type"]: InstanceType(**item)
            for item in _load(data_dir / "instance_types.json")["instance_types"]
        }
        self.images: dict[str, Image] = {
            item["image_id"]: Image(**item) for item in _load(data_dir / "images.json")["images"]
        }
        self.prices: dict[str, Any] = _load(data_dir / "prices.json")
        self.regions: dict[str, Region] = {}
        self.zones: dict[str, Zone] = {}
        self.initial_stock: dict[tuple[str, str], int] = {}
        for raw in regions:
            zones = []
            for raw_zone in raw["zones"]:
                zone_stock = stock.get(raw_zone["zone_id"], {})
                offered = tuple(zone_stock.get("stock", {}))
                zone = Zone(
                    zone_id=raw_zone["zone_id"],
                    region_id=raw["region_id"],
                    local_name=raw_zone["local_name"],
                    english_name=raw_zone.get("english_name") or raw_zone["zone_id"],
                    offered=offered,
                    closed=frozenset(zone_stock.get("closed", ())),
                )
                for instance_type, available in zone_stock.get("stock", {}).items():
                    if instance_type not in self.instance_types:
                        raise ValueError(f"stock.json names unknown type {instance_type}")
                    self.initial_stock[(zone.zone_id, instance_type)] = int(available)
                zones.append(zone)
                self.zones[zone.zone_id] = zone
            self.regions[raw["region_id"]] = Region(
                region_id=raw["region_id"],
                local_name=raw["local_name"],
                english_name=raw.get("english_name") or raw["region_id"],
                endpoint=raw["endpoint"],
                id_prefix=raw["id_prefix"],
                zones=tuple(zones),
            )

    def region(self, region_id: str) -> Region:
        region = self.regions.get(region_id)
        if region is None:
            raise CloudError(
                "InvalidRegionId.NotFound",
                f"The specified RegionId does not exist: {region_id}.",
                404,
            )
        return region

    def zone(self, zone_id: str, region_id: str | None = None) -> Zone:
        zone = self.zones.get(zone_id)
        if zone is None or (region_id is not None and zone.region_id != region_id):
            raise CloudError(
                "InvalidZoneId.NotFound", f"The specified ZoneId does not exist: {zone_id}.", 404
            )
        return zone

    def instance_type(self, instance_type: str) -> InstanceType:
        found = self.instance_types.get(instance_type)
        if found is None:
            raise CloudError(
                "InvalidInstanceType.ValueNotSupported",
                f"The specified InstanceType beyond the permitted range: {instance_type}.",
                400,
            )
        return found

    def image(self, image_id: str) -> Image:
        image = self.images.get(image_id)
        if image is None:
            raise CloudError(
                "InvalidImageId.NotFound", f"The specified ImageId does not exist: {image_id}.", 404
            )
        return image


@cache
def default_catalog() -> Catalog:
    return Catalog()


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)
