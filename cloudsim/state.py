"""The simulated account: every resource record, the stock, and the ClientToken memory.

One re-entrant lock guards all of it. API handlers run under the lock as a whole (each takes
well under a millisecond), background work (scripts, WebUI jobs, the flusher) takes it only to
read or record results. Records are plain slotted dataclasses whose fields are JSON values,
so persisting them is a ``json.dumps`` of their fields.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from cloudsim import digests
from cloudsim.catalog import Catalog

# Sim-seconds a deleted host still blocks the deletion of its security group and vSwitch, like
# the real cloud, which releases them asynchronously.
DELETE_RELEASE_SECONDS = 3.0

# An activity level of -1 marks a WebUI generation (rendered as 80-99 % GPU).
WEBUI_ACTIVITY = -1.0


@dataclass(slots=True)
class Instance:
    """An ECS instance. Its status is a history of phases: ``phase_statuses[i]`` holds from
    ``phase_times[i]`` on, so the current status is read from the clock, never ticked."""

    instance_id: str
    seq: int
    region_id: str
    zone_id: str
    instance_type: str
    image_id: str
    name: str
    host_name: str
    description: str
    vpc_id: str
    vswitch_id: str
    security_group_ids: list[str]
    private_ip: str
    charge_type: str
    internet_charge_type: str
    bandwidth_out: int
    disk_category: str
    disk_size: int
    created_at: float
    serial: str
    mac: str
    eni_id: str
    tags: list[list[str]] = field(default_factory=list)
    public_ip: str = ""
    period: int = 0
    period_unit: str = ""
    auto_renew: bool = False
    auto_renew_period: int = 1
    expired_at: float | None = None
    user_data: str = ""
    started_at: float = 0.0
    phase_times: list[float] = field(default_factory=list)
    phase_statuses: list[str] = field(default_factory=list)
    stopped_mode: str = "Not-applicable"
    holds_stock: bool = True
    deleted_at: float | None = None
    activity: list[list[float]] = field(default_factory=list)
    # (status, UTF-8 JSON) of the DescribeInstances view; never persisted. Any attribute
    # assignment drops it (see __setattr__); the status part covers the passing of time.
    view_cache: tuple[str, bytes] | None = field(default=None, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name != "view_cache":
            object.__setattr__(self, "view_cache", None)

    def status_at(self, when: float) -> str:
        index = bisect_right(self.phase_times, when) - 1
        return self.phase_statuses[index] if index >= 0 else "Pending"

    def schedule(self, now: float, phases: tuple[tuple[float, str], ...]) -> None:
        """Appends phases at ``now + offset``; phases still in the future are replaced."""
        self.view_cache = None
        cut = bisect_right(self.phase_times, now)
        del self.phase_times[cut:]
        del self.phase_statuses[cut:]
        for offset, status in phases:
            self.phase_times.append(now + offset)
            self.phase_statuses.append(status)

    def add_activity(self, start: float, end: float, level: float) -> None:
        # Merge with the previous window when it touches it, so a busy host keeps a short list.
        if self.activity:
            last = self.activity[-1]
            if last[2] == level and start <= last[1] + 1.0:
                last[1] = max(last[1], end)
                return
        self.activity.append([start, end, level])


@dataclass(slots=True)
class Vpc:
    vpc_id: str
    region_id: str
    cidr_block: str
    name: str
    description: str
    created_at: float
    available_at: float
    vrouter_id: str
    route_table_id: str
    tags: list[list[str]] = field(default_factory=list)


@dataclass(slots=True)
class VSwitch:
    vswitch_id: str
    vpc_id: str
    region_id: str
    zone_id: str
    cidr_block: str
    name: str
    description: str
    created_at: float
    available_at: float
    tags: list[list[str]] = field(default_factory=list)
    next_offset: int = 1
    released: list[int] = field(default_factory=list)
    used: int = 0


@dataclass(slots=True)
class SecurityGroup:
    security_group_id: str
    region_id: str
    vpc_id: str
    name: str
    description: str
    group_type: str
    created_at: float
    tags: list[list[str]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class Execution:
    """An OOS execution of ACS-ECS-BulkyRunCommand; one target per host."""

    execution_id: str
    region_id: str
    template_name: str
    mode: str
    parameters: dict[str, Any]
    tags: dict[str, Any]
    created_at: float
    status: str = "Running"
    status_message: str = ""
    ended_at: float | None = None
    targets: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class AccountImage:
    """A custom image of the account (CreateImage, CopyImage) in one region.

    It is ``Creating`` until ``available_at`` on the sim clock. ``snapshot_id`` names the
    snapshot behind it, whose copy of the host's disk (its sandbox) lives under
    ``<data-dir>/snapshots/<snapshot-id>/``; a host made from the image starts with that copy.
    """

    image_id: str
    region_id: str
    name: str
    description: str
    snapshot_id: str
    base_image_id: str
    size_gib: int
    created_at: float
    available_at: float
    source_instance_id: str = ""
    copied_from: str = ""
    tags: list[list[str]] = field(default_factory=list)

    def status_at(self, when: float) -> str:
        return "Available" if when >= self.available_at else "Creating"

    def progress_at(self, when: float) -> int:
        span = self.available_at - self.created_at
        if span <= 0 or when >= self.available_at:
            return 100
        return max(0, min(99, int((when - self.created_at) * 100 / span)))


Record = TypeVar("Record")


def record_to_dict(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in _field_names(type(record))}


def record_from_dict(cls: type[Record], data: dict[str, Any]) -> Record:
    names = _field_names(cls)
    return cls(**{k: v for k, v in data.items() if k in names})


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_NOT_PERSISTED = frozenset({"view_cache"})


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(
            f.name for f in fields(cls) if f.name not in _NOT_PERSISTED
        )
    return names


class State:
    """All resources of the simulated account, guarded by ``lock``."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        self.instances: dict[str, Instance] = {}
        # Deleted hosts stay here for CloudMonitor history and the dependency delay.
        self.deleted: dict[str, Instance] = {}
        self.vpcs: dict[str, Vpc] = {}
        self.vswitches: dict[str, VSwitch] = {}
        self.security_groups: dict[str, SecurityGroup] = {}
        self.executions: dict[str, Execution] = {}
        self.send_files: dict[str, dict[str, Any]] = {}
        self.images: dict[str, AccountImage] = {}
        self.stock: dict[tuple[str, str], int] = dict(self.catalog.initial_stock)
        # (Product.Action, ClientToken) -> {"fingerprint": "sha256:…", "body": ...}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.public_ips: set[str] = set()
        self.seq = 0
        self.dirty = True

    def touch(self) -> None:
        self.dirty = True

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def any_instance(self, instance_id: str) -> Instance | None:
        return self.instances.get(instance_id) or self.deleted.get(instance_id)

    def to_dict(self) -> dict[str, Any]:
        """What state.json holds. Scripts, file contents and remembered answers (the parts that
        may carry secrets) go through ``digests.for_disk``; the rest holds none."""
        return {
            "instances": [record_to_dict(i) for i in self.instances.values()],
            "deleted": [record_to_dict(i) for i in self.deleted.values()],
            "vpcs": [record_to_dict(v) for v in self.vpcs.values()],
            "vswitches": [record_to_dict(v) for v in self.vswitches.values()],
            "security_groups": [record_to_dict(g) for g in self.security_groups.values()],
            "executions": digests.for_disk([record_to_dict(e) for e in self.executions.values()]),
            "send_files": digests.for_disk(list(self.send_files.values())),
            "images": [record_to_dict(i) for i in self.images.values()],
            "stock": [[zone, kind, n] for (zone, kind), n in self.stock.items()],
            "tokens": digests.for_disk(self.tokens),
            "seq": self.seq,
        }

    def load_dict(self, data: dict[str, Any]) -> None:
        self.reset()
        for raw in data.get("instances", []):
            instance = record_from_dict(Instance, raw)
            self.instances[instance.instance_id] = instance
        for raw in data.get("deleted", []):
            instance = record_from_dict(Instance, raw)
            self.deleted[instance.instance_id] = instance
        for raw in data.get("vpcs", []):
            vpc = record_from_dict(Vpc, raw)
            self.vpcs[vpc.vpc_id] = vpc
        for raw in data.get("vswitches", []):
            vswitch = record_from_dict(VSwitch, raw)
            self.vswitches[vswitch.vswitch_id] = vswitch
        for raw in data.get("security_groups", []):
            group = record_from_dict(SecurityGroup, raw)
            self.security_groups[group.security_group_id] = group
        for raw in data.get("executions", []):
            execution = record_from_dict(Execution, raw)
            self.executions[execution.execution_id] = execution
        for raw in data.get("send_files", []):
            self.send_files[raw["InvokeId"]] = raw
        for raw in data.get("images", []):
            image = record_from_dict(AccountImage, raw)
            self.images[image.image_id] = image
        for zone, kind, available in data.get("stock", []):
            self.stock[(zone, kind)] = int(available)
        # Older state files kept the canonical request itself as the fingerprint.
        self.tokens = {
            key: {**remembered, "fingerprint": digests.digest(remembered["fingerprint"])}
            for key, remembered in data.get("tokens", {}).items()
        }
        self.seq = int(data.get("seq", 0))
        self.public_ips = {i.public_ip for i in self.instances.values() if i.public_ip}
        self.dirty = False
