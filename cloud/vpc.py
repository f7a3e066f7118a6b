"""VPC 2016-04-28: the network a WebUI host lives in."""

from __future__ import annotations

from dataclasses import dataclass

from cloud.clients import VPC, call, request_model
from cloud.types import items


@dataclass(frozen=True)
class Vpc:
    vpc_id: str
    status: str
    cidr_block: str
    vswitch_ids: tuple[str, ...]
    tags: dict[str, str]


@dataclass(frozen=True)
class VSwitch:
    vswitch_id: str
    vpc_id: str
    zone_id: str
    status: str
    cidr_block: str


def _tags(tags: dict[str, str] | None, model: str) -> list[object] | None:
    return [request_model(VPC, model, key=k, value=v) for k, v in (tags or {}).items()] or None


def create_vpc(
    region: str,
    *,
    cidr_block: str,
    name: str,
    client_token: str,
    tags: dict[str, str] | None = None,
) -> tuple[str, str]:
    """Creates a VPC; returns (vpc id, request id)."""
    request = request_model(
        VPC,
        "CreateVpcRequest",
        region_id=region,
        cidr_block=cidr_block,
        vpc_name=name,
        client_token=client_token,
        tag=_tags(tags, "CreateVpcRequestTag"),
    )
    data = call(VPC, region, "CreateVpc", request)
    return data["VpcId"], str(data.get("RequestId") or "")


def describe_vpc(region: str, vpc_id: str) -> Vpc | None:
    request = request_model(VPC, "DescribeVpcsRequest", region_id=region, vpc_id=vpc_id)
    data = call(VPC, region, "DescribeVpcs", request)
    for raw in items(data.get("Vpcs"), "Vpc"):
        if raw.get("VpcId") == vpc_id:
            return Vpc(
                vpc_id=vpc_id,
                status=raw.get("Status") or "",
                cidr_block=raw.get("CidrBlock") or "",
                vswitch_ids=tuple(items(raw.get("VSwitchIds"), "VSwitchId")),
                tags={t.get("Key"): t.get("Value") for t in items(raw.get("Tags"), "Tag")},
            )
    return None


def delete_vpc(region: str, vpc_id: str) -> str:
    request = request_model(VPC, "DeleteVpcRequest", region_id=region, vpc_id=vpc_id)
    return str(call(VPC, region, "DeleteVpc", request).get("RequestId") or "")


def create_vswitch(
    region: str,
    *,
    vpc_id: str,
    zone_id: str,
    cidr_block: str,
    name: str,
    client_token: str,
    tags: dict[str, str] | None = None,
) -> tuple[str, str]:
    """Creates a vSwitch; returns (vswitch id, request id)."""
    request = request_model(
        VPC,
        "CreateVSwitchRequest",
        region_id=region,
        vpc_id=vpc_id,
        zone_id=zone_id,
        cidr_block=cidr_block,
        v_switch_name=name,
        client_token=client_token,
        tag=_tags(tags, "CreateVSwitchRequestTag"),
    )
    data = call(VPC, region, "CreateVSwitch", request)
    return data["VSwitchId"], str(data.get("RequestId") or "")


def describe_vswitch(region: str, vswitch_id: str) -> VSwitch | None:
    request = request_model(
        VPC, "DescribeVSwitchesRequest", region_id=region, v_switch_id=vswitch_id
    )
    data = call(VPC, region, "DescribeVSwitches", request)
    for raw in items(data.get("VSwitches"), "VSwitch"):
        if raw.get("VSwitchId") == vswitch_id:
            return VSwitch(
                vswitch_id=vswitch_id,
                vpc_id=raw.get("VpcId") or "",
                zone_id=raw.get("ZoneId") or "",
                status=raw.get("Status") or "",
                cidr_block=raw.get("CidrBlock") or "",
            )
    return None


def delete_vswitch(region: str, vswitch_id: str) -> str:
    request = request_model(VPC, "DeleteVSwitchRequest", region_id=region, v_switch_id=vswitch_id)
    return str(call(VPC, region, "DeleteVSwitch", request).get("RequestId") or "")
