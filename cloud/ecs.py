"""ECS 2014-05-26: regions, instance types, stock, prices, instances and security groups."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from cloud.clients import ECS, call, request_model
from cloud.types import as_float, as_int, cloud_time, items, money

DESCRIBE_INSTANCES_MAX_IDS = 100
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


@dataclass(frozen=True)
class Permission:
    """One inbound rule of a security group."""

    port_range: str
    source_cidr: str
    protocol: str = "TCP"
    policy: str = "Accept"
    priority: int = 1
    description: str = ""


def describe_regions() -> list[Region]:
    data = call(ECS, "cn-hangzhou", "DescribeRegions", request_model(ECS, "DescribeRegionsRequest"))
    return [
        Region(r["RegionId"], r.get("LocalName") or r["RegionId"])
        for r in items(data.get("Regions"), "Region")
    ]


def describe_zones(region: str) -> list[Zone]:
    request = request_model(ECS, "DescribeZonesRequest", region_id=region)
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
        tag=[
            request_model(ECS, "RunInstancesRequestTag", key=k, value=v)
            for k, v in (tags or {}).items()
        ]
        or None,
        amount=amount,
        user_data=user_data,
        dry_run=dry_run or None,
    )
    data = call(ECS, region, "RunInstances", request, dry_run=dry_run)
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
        tag=[
            request_model(ECS, "DescribeInstancesRequestTag", key=k, value=v)
            for k, v in (tags or {}).items()
        ]
        or None,
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


def create_security_group(
    region: str,
    *,
    vpc_id: str,
    name: str,
    client_token: str,
    description: str = "",
    tags: dict[str, str] | None = None,
) -> tuple[str, str]:
    """Creates a security group; returns (security group id, request id)."""
    request = request_model(
        ECS,
        "CreateSecurityGroupRequest",
        region_id=region,
        vpc_id=vpc_id,
        security_group_name=name,
        description=description or None,
        client_token=client_token,
        tag=[
            request_model(ECS, "CreateSecurityGroupRequestTag", key=k, value=v)
            for k, v in (tags or {}).items()
        ]
        or None,
    )
    data = call(ECS, region, "CreateSecurityGroup", request)
    return data["SecurityGroupId"], str(data.get("RequestId") or "")


def authorize_security_group(
    region: str, security_group_id: str, permissions: Sequence[Permission]
) -> str:
    request = request_model(
        ECS,
        "AuthorizeSecurityGroupRequest",
        region_id=region,
        security_group_id=security_group_id,
        permissions=[
            request_model(
                ECS,
                "AuthorizeSecurityGroupRequestPermissions",
                ip_protocol=p.protocol,
                port_range=p.port_range,
                source_cidr_ip=p.source_cidr,
                policy=p.policy,
                priority=str(p.priority),
                description=p.description or None,
            )
            for p in permissions
        ],
    )
    data = call(ECS, region, "AuthorizeSecurityGroup", request)
    return str(data.get("RequestId") or "")


def describe_security_group_permissions(region: str, security_group_id: str) -> list[Permission]:
    request = request_model(
        ECS,
        "DescribeSecurityGroupAttributeRequest",
        region_id=region,
        security_group_id=security_group_id,
        direction="ingress",
    )
    data = call(ECS, region, "DescribeSecurityGroupAttribute", request)
    return [
        Permission(
            port_range=p.get("PortRange") or "",
            source_cidr=p.get("SourceCidrIp") or "",
            protocol=(p.get("IpProtocol") or "").upper(),
            policy=p.get("Policy") or "",
            priority=as_int(p.get("Priority"), 1),
            description=p.get("Description") or "",
        )
        for p in items(data.get("Permissions"), "Permission")
    ]


def delete_security_group(region: str, security_group_id: str) -> str:
    return _simple(
        "DeleteSecurityGroup",
        "DeleteSecurityGroupRequest",
        region,
        region_id=region,
        security_group_id=security_group_id,
    )


def send_file(
    region: str,
    instance_ids: Sequence[str],
    *,
    name: str,
    target_dir: str,
    content_base64: str,
    file_mode: str = "0644",
    overwrite: bool = True,
) -> tuple[str, str]:
    """Sends a small file (base64, at most 32 KB decoded); returns (invoke id, request id)."""
    request = request_model(
        ECS,
        "SendFileRequest",
        region_id=region,
        instance_id=list(instance_ids),
        name=name,
        target_dir=target_dir,
        content=content_base64,
        content_type="Base64",
        file_mode=file_mode,
        overwrite=overwrite,
    )
    data = call(ECS, region, "SendFile", request)
    return str(data.get("InvokeId") or ""), str(data.get("RequestId") or "")


@dataclass(frozen=True)
class SendFileResult:
    """Where a SendFile stands: ``Pending``/``Running``, ``Success``, ``Failed``, ..."""

    invoke_id: str
    status: str
    errors: list[str]

    @property
    def finished(self) -> bool:
        return self.status not in ("Pending", "Running", "Scheduled")


def describe_send_file(region: str, invoke_id: str) -> SendFileResult | None:
    request = request_model(
        ECS, "DescribeSendFileResultsRequest", region_id=region, invoke_id=invoke_id
    )
    data = call(ECS, region, "DescribeSendFileResults", request)
    for raw in (data.get("Invocations") or {}).get("Invocation") or []:
        if raw.get("InvokeId") != invoke_id:
            continue
        hosts = (raw.get("InvokeInstances") or {}).get("InvokeInstance") or []
        return SendFileResult(
            invoke_id=invoke_id,
            status=str(raw.get("InvocationStatus") or ""),
            errors=[
                f"{h.get('InstanceId')}: {h.get('ErrorCode')}: {h.get('ErrorInfo')}"
                for h in hosts
                if h.get("ErrorCode")
            ],
        )
    return None
