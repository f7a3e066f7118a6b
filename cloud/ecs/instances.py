"""ECS instances: run, describe (by id, a page, every one), start, stop, reboot, delete and
change their type."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from cloud.clients import ECS, call, request_model
from cloud.ecs.catalog import INTERNET_CHARGE_TYPE
from cloud.types import as_int, cloud_time, items, money

DESCRIBE_INSTANCES_MAX_IDS = 100


@dataclass(frozen=True)
class Instance:
    instance_id: str
    name: str
    status: str
    stopped_mode: str
    instance_type: str
    cpu: int
    memory_mib: int
    gpu_amount: int
    gpu_spec: str
    region_id: str
    zone_id: str
    image_id: str
    charge_type: str
    bandwidth_out: int
    public_ip: str | None
    private_ip: str | None
    vpc_id: str | None
    vswitch_id: str | None
    security_group_ids: tuple[str, ...]
    tags: dict[str, str]
    creation_time: datetime | None
    start_time: datetime | None
    expired_time: datetime | None
    lock_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class InstancePage:
    instances: list[Instance]
    total_count: int
    next_token: str | None
    request_id: str | None


@dataclass(frozen=True)
class RunResult:
    instance_ids: list[str]
    request_id: str | None
    order_id: str | None = None
    trade_price: Decimal | None = None
    dry_run: bool = False


def _tags(model: str, tags: dict[str, str] | None) -> list[Any] | None:
    return [request_model(ECS, model, key=k, value=v) for k, v in (tags or {}).items()] or None


def run_instances(
    region: str,
    *,
    zone_id: str,
    instance_type: str,
    image_id: str,
    security_group_id: str,
    vswitch_id: str,
    instance_name: str,
    client_token: str,
    host_name: str | None = None,
    password: str | None = None,
    charge_type: str = "PostPaid",
    period: int | None = None,
    period_unit: str | None = None,
    auto_renew: bool | None = None,
    system_disk_category: str = "cloud_essd",
    system_disk_size: int = 200,
    bandwidth_out: int = 10,
    internet_charge_type: str = INTERNET_CHARGE_TYPE,
    tags: dict[str, str] | None = None,
    amount: int = 1,
    user_data: str | None = None,
    dry_run: bool = False,
) -> RunResult:
    prepaid = charge_type == "PrePaid"
    request = request_model(
        ECS,
        "RunInstancesRequest",
        region_id=region,
        zone_id=zone_id,
        instance_type=instance_type,
        image_id=image_id,
        security_group_id=security_group_id,
        v_switch_id=vswitch_id,
        instance_name=instance_name,
        host_name=host_name,
        password=password,
        instance_charge_type=charge_type,
        period=period if prepaid else None,
        period_unit=period_unit if prepaid else None,
        auto_renew=auto_renew if prepaid else None,
        system_disk=request_model(
            ECS,
            "RunInstancesRequestSystemDisk",
            category=system_disk_category,
            size=str(system_disk_size),
        ),
        internet_max_bandwidth_out=bandwidth_out,
        internet_charge_type=internet_charge_type,
        client_token=client_token,
        tag=_tags("RunInstancesRequestTag", tags),
        amount=amount,
        user_data=user_data,
        dry_run=dry_run or None,
    )
    return _run_result(call(ECS, region, "RunInstances", request, dry_run=dry_run))


def _run_result(data: dict[str, Any]) -> RunResult:
    if data.get("DryRun"):
        return RunResult(instance_ids=[], request_id=data.get("RequestId"), dry_run=True)
    return RunResult(
        instance_ids=list(items(data.get("InstanceIdSets"), "InstanceIdSet")),
        request_id=data.get("RequestId"),
        order_id=data.get("OrderId"),
        trade_price=money(data["TradePrice"]) if data.get("TradePrice") is not None else None,
    )


def _instance(raw: dict[str, Any]) -> Instance:
    vpc = raw.get("VpcAttributes") or {}
    public_ips = items(raw.get("PublicIpAddress"), "IpAddress")
    eip = (raw.get("EipAddress") or {}).get("IpAddress")
    private_ips = items(vpc.get("PrivateIpAddress"), "IpAddress")
    return Instance(
        instance_id=raw["InstanceId"],
        name=raw.get("InstanceName") or "",
        status=raw.get("Status") or "",
        stopped_mode=raw.get("StoppedMode") or "Not-applicable",
        instance_type=raw.get("InstanceType") or "",
        cpu=as_int(raw.get("Cpu")),
        memory_mib=as_int(raw.get("Memory")),
        gpu_amount=as_int(raw.get("GPUAmount")),
        gpu_spec=raw.get("GPUSpec") or "",
        region_id=raw.get("RegionId") or "",
        zone_id=raw.get("ZoneId") or "",
        image_id=raw.get("ImageId") or "",
        charge_type=raw.get("InstanceChargeType") or "",
        bandwidth_out=as_int(raw.get("InternetMaxBandwidthOut")),
        public_ip=(public_ips[0] if public_ips else None) or eip or None,
        private_ip=private_ips[0] if private_ips else None,
        vpc_id=vpc.get("VpcId") or None,
        vswitch_id=vpc.get("VSwitchId") or None,
        security_group_ids=tuple(items(raw.get("SecurityGroupIds"), "SecurityGroupId")),
        tags={t.get("TagKey"): t.get("TagValue") for t in items(raw.get("Tags"), "Tag")},
        creation_time=cloud_time(raw.get("CreationTime")),
        start_time=cloud_time(raw.get("StartTime")),
        expired_time=cloud_time(raw.get("ExpiredTime")),
        lock_reasons=tuple(
            lock.get("LockReason", "") for lock in items(raw.get("OperationLocks"), "LockReason")
        ),
    )


def describe_instances_page(
    region: str,
    *,
    instance_ids: Sequence[str] | None = None,
    tags: dict[str, str] | None = None,
    status: str | None = None,
    vpc_id: str | None = None,
    max_results: int = 100,
    next_token: str | None = None,
) -> InstancePage:
    if instance_ids is not None and len(instance_ids) > DESCRIBE_INSTANCES_MAX_IDS:
        raise ValueError(f"DescribeInstances takes at most {DESCRIBE_INSTANCES_MAX_IDS} ids")
    request = request_model(
        ECS,
        "DescribeInstancesRequest",
        region_id=region,
        instance_ids=json.dumps(list(instance_ids)) if instance_ids is not None else None,
        status=status,
        vpc_id=vpc_id,
        tag=_tags("DescribeInstancesRequestTag", tags),
        max_results=max_results,
        next_token=next_token,
    )
    data = call(ECS, region, "DescribeInstances", request)
    return InstancePage(
        instances=[_instance(raw) for raw in items(data.get("Instances"), "Instance")],
        total_count=as_int(data.get("TotalCount")),
        next_token=data.get("NextToken") or None,
        request_id=data.get("RequestId"),
    )


def describe_instances(region: str, instance_ids: Sequence[str]) -> dict[str, Instance]:
    """The instances among ``instance_ids`` that exist, by id; one call per 100 ids."""
    found: dict[str, Instance] = {}
    ids = list(dict.fromkeys(instance_ids))
    for start in range(0, len(ids), DESCRIBE_INSTANCES_MAX_IDS):
        batch = ids[start : start + DESCRIBE_INSTANCES_MAX_IDS]
        page = describe_instances_page(region, instance_ids=batch, max_results=100)
        found.update((i.instance_id, i) for i in page.instances)
    return found


def iter_instances(region: str, *, tags: dict[str, str] | None = None) -> Iterator[Instance]:
    """Every instance in a region (optionally with the given tags), following NextToken."""
    next_token: str | None = None
    while True:
        page = describe_instances_page(region, tags=tags, next_token=next_token)
        yield from page.instances
        if not page.next_token:
            return
        next_token = page.next_token


def _simple(action: str, model: str, region: str, dry_run: bool = False, **fields: Any) -> str:
    data = call(
        ECS,
        region,
        action,
        request_model(ECS, model, dry_run=dry_run or None, **fields),
        dry_run=dry_run,
    )
    return str(data.get("RequestId") or "")


def start_instance(region: str, instance_id: str, *, dry_run: bool = False) -> str:
    """Starts a stopped instance; returns the request id."""
    return _simple(
        "StartInstance", "StartInstanceRequest", region, dry_run, instance_id=instance_id
    )


def stop_instance(
    region: str,
    instance_id: str,
    *,
    stopped_mode: str = "StopCharging",
    force: bool = False,
    dry_run: bool = False,
) -> str:
    return _simple(
        "StopInstance",
        "StopInstanceRequest",
        region,
        dry_run,
        instance_id=instance_id,
        stopped_mode=stopped_mode,
        force_stop=force or None,
    )


def reboot_instance(
    region: str, instance_id: str, *, force: bool = False, dry_run: bool = False
) -> str:
    return _simple(
        "RebootInstance",
        "RebootInstanceRequest",
        region,
        dry_run,
        instance_id=instance_id,
        force_stop=force or None,
    )


def delete_instance(
    region: str,
    instance_id: str,
    *,
    force: bool = True,
    terminate_subscription: bool = False,
    dry_run: bool = False,
) -> str:
    return _simple(
        "DeleteInstance",
        "DeleteInstanceRequest",
        region,
        dry_run,
        instance_id=instance_id,
        force=force,
        terminate_subscription=terminate_subscription or None,
    )


def modify_instance_spec(
    region: str, instance_id: str, *, instance_type: str, client_token: str, dry_run: bool = False
) -> str:
    return _simple(
        "ModifyInstanceSpec",
        "ModifyInstanceSpecRequest",
        region,
        dry_run,
        instance_id=instance_id,
        instance_type=instance_type,
        client_token=client_token,
    )
