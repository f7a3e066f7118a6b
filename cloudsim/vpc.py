"""VPC 2016-04-28: VPCs and vSwitches with the cloud's CIDR and dependency rules.

A VPC lies inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 with a /8-/24 mask; a vSwitch
is a /16-/29 block inside its VPC that overlaps no other vSwitch of the VPC. Both are
``Pending`` for one sim second after creation.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from cloudsim import ids, tags
from cloudsim.api import Call, action
from cloudsim.catalog import ACCOUNT_ID
from cloudsim.clock import iso_seconds
from cloudsim.ecs import depends_on
from cloudsim.ecs_run_validation import check_name
from cloudsim.errors import CloudError, dry_run_passed
from cloudsim.paging import page_by_number
from cloudsim.state import Vpc, VSwitch

if TYPE_CHECKING:
    from cloudsim.simulator import Simulator

PENDING_SECONDS = 1.0
PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
DEFAULT_VPC_CIDR = "172.16.0.0/12"


def _cidr(value: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise CloudError(
            "InvalidCidrBlock.Malformed", f"Specified CIDR block is not valid: {value!r}.", 400
        ) from None


def _vpc(sim: Simulator, region_id: str, vpc_id: str) -> Vpc:
    vpc = sim.state.vpcs.get(vpc_id)
    if vpc is None or vpc.region_id != region_id:
        raise CloudError("InvalidVpcId.NotFound", f"Specified VPC does not exist: {vpc_id}.", 404)
    return vpc


def _vswitch(sim: Simulator, region_id: str | None, vswitch_id: str) -> VSwitch:
    vswitch = sim.state.vswitches.get(vswitch_id)
    if vswitch is None or (region_id is not None and vswitch.region_id != region_id):
        raise CloudError("InvalidVSwitchId.NotFound", f"VSwitch not exist: {vswitch_id}.", 404)
    return vswitch


def _status(available_at: float, now: float) -> str:
    return "Available" if now >= available_at else "Pending"


@action("Vpc", "CreateVpc", client_token=True)
def create_vpc(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region = sim.catalog.region(params.required("RegionId"))
    cidr_text = params.text("CidrBlock", default=DEFAULT_VPC_CIDR) or DEFAULT_VPC_CIDR
    cidr = _cidr(cidr_text)
    if not any(cidr.subnet_of(block) for block in PRIVATE_RANGES):
        raise CloudError(
            "InvalidCidrBlock.Malformed",
            f"Specified CIDR block is not valid: {cidr_text} must lie inside 10.0.0.0/8, "
            "172.16.0.0/12 or 192.168.0.0/16.",
            400,
        )
    if not 8 <= cidr.prefixlen <= 24:
        raise CloudError(
            "InvalidCidrBlock.Malformed",
            f"Specified CIDR block is not valid: a VPC mask is /8 to /24, not /{cidr.prefixlen}.",
            400,
        )
    name = params.text("VpcName", default="") or ""
    if name:
        check_name(name, "VpcName", "InvalidVpcName.Malformed")
    description = params.text("Description", default="", max_length=256) or ""
    vpc_tags = tags.read_tags(params)
    if params.boolean("DryRun"):
        raise dry_run_passed()
    vpc_id = ids.resource_id("vpc", region.id_prefix, sim.state.vpcs, length=18)
    vpc = Vpc(
        vpc_id=vpc_id,
        region_id=region.region_id,
        cidr_block=str(cidr),
        name=name,
        description=description,
        created_at=call.now,
        available_at=call.now + PENDING_SECONDS,
        vrouter_id=ids.resource_id("vrt", region.id_prefix, (), length=18),
        route_table_id=ids.resource_id("vtb", region.id_prefix, (), length=18),
        tags=vpc_tags,
    )
    sim.state.vpcs[vpc_id] = vpc
    return {
        "VpcId": vpc_id,
        "VRouterId": vpc.vrouter_id,
        "RouteTableId": vpc.route_table_id,
        "ResourceGroupId": "rg-sim-default",
    }


@action("Vpc", "DescribeVpcs", mutates=False)
def describe_vpcs(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region_id = params.required("RegionId")
    sim.catalog.region(region_id)
    wanted = {v.strip() for v in (params.text("VpcId") or "").split(",") if v.strip()}
    name = params.text("VpcName")
    tag_filter = tags.read_tag_filter(params)
    vpcs = [
        v
        for v in sim.state.vpcs.values()
        if v.region_id == region_id
        and (not wanted or v.vpc_id in wanted)
        and (not name or v.name == name)
        and tags.matches(v.tags, tag_filter)
    ]
    page, number, size = page_by_number(params, vpcs, max_size=50)
    return {
        "TotalCount": len(vpcs),
        "PageNumber": number,
        "PageSize": size,
        "Vpcs": {"Vpc": [_vpc_view(sim, v, call.now) for v in page]},
    }


def _vpc_view(sim: Simulator, vpc: Vpc, now: float) -> dict[str, Any]:
    vswitch_ids = [s.vswitch_id for s in sim.state.vswitches.values() if s.vpc_id == vpc.vpc_id]
    return {
        "VpcId": vpc.vpc_id,
        "RegionId": vpc.region_id,
        "Status": _status(vpc.available_at, now),
        "VpcName": vpc.name,
        "Description": vpc.description,
        "CidrBlock": vpc.cidr_block,
        "CreationTime": iso_seconds(vpc.created_at),
        "VRouterId": vpc.vrouter_id,
        "IsDefault": False,
        "OwnerId": ACCOUNT_ID,
        "ResourceGroupId": "rg-sim-default",
        "EnabledIpv6": False,
        "Ipv6CidrBlock": "",
        "CenStatus": "",
        "DhcpOptionsSetId": "",
        "DhcpOptionsSetStatus": "",
        "DnsHostnameStatus": "DISABLED",
        "VSwitchIds": {"VSwitchId": vswitch_ids},
        "RouterTableIds": {"RouterTableIds": [vpc.route_table_id]},
        "NatGatewayIds": {"NatGatewayIds": []},
        "UserCidrs": {"UserCidr": []},
        "SecondaryCidrBlocks": {"SecondaryCidrBlock": []},
        "Tags": tags.vpc_view(vpc.tags),
    }


@action("Vpc", "DeleteVpc")
def delete_vpc(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region_id = params.required("RegionId")
    sim.catalog.region(region_id)
    vpc = _vpc(sim, region_id, params.required("VpcId"))
    if _status(vpc.available_at, call.now) != "Available":
        raise CloudError(
            "IncorrectVpcStatus", "Current VPC status does not support this operation.", 400
        )
    if any(s.vpc_id == vpc.vpc_id for s in sim.state.vswitches.values()):
        raise CloudError(
            "DependencyViolation.VSwitch",
            "Specified object has dependent resources: the VPC still has vSwitches.",
            400,
        )
    if any(g.vpc_id == vpc.vpc_id for g in sim.state.security_groups.values()):
        raise CloudError(
            "DependencyViolation.SecurityGroup",
            "Specified object has dependent resources SecurityGroup.",
            400,
        )
    if params.boolean("DryRun"):
        raise dry_run_passed()
    del sim.state.vpcs[vpc.vpc_id]
    return {}


@action("Vpc", "CreateVSwitch", client_token=True)
def create_vswitch(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region = sim.catalog.region(params.required("RegionId"))
    vpc = _vpc(sim, region.region_id, params.required("VpcId"))
    zone = sim.catalog.zone(params.required("ZoneId"), region.region_id)
    cidr_text = params.required("CidrBlock")
    cidr = _cidr(cidr_text)
    if not 16 <= cidr.prefixlen <= 29:
        raise CloudError(
            "InvalidCidrBlock.Malformed",
            f"Specified CIDR block is not valid: a vSwitch mask is /16 to /29, not "
            f"/{cidr.prefixlen}.",
            400,
        )
    if not cidr.subnet_of(ipaddress.IPv4Network(vpc.cidr_block)):
        raise CloudError(
            "InvalidParameter",
            f"Specified CIDR block is not valid in VPC: {cidr_text} is outside {vpc.cidr_block}.",
            400,
        )
    for other in sim.state.vswitches.values():
        if other.vpc_id == vpc.vpc_id and cidr.overlaps(ipaddress.IPv4Network(other.cidr_block)):
            raise CloudError(
                "InvalidCidrBlock.Overlapped",
                f"Specified CIDR block overlapped with other subnets: {other.vswitch_id} has "
                f"{other.cidr_block}.",
                400,
            )
    if _status(vpc.available_at, call.now) != "Available":
        raise CloudError(
            "IncorrectVpcStatus", "Current VPC status does not support this operation.", 400
        )
    name = params.text("VSwitchName", default="") or ""
    if name:
        check_name(name, "VSwitchName", "InvalidVSwitchName.Malformed")
    description = params.text("Description", default="", max_length=256) or ""
    vswitch_tags = tags.read_tags(params)
    vswitch_id = ids.resource_id("vsw", region.id_prefix, sim.state.vswitches, length=18)
    sim.state.vswitches[vswitch_id] = VSwitch(
        vswitch_id=vswitch_id,
        vpc_id=vpc.vpc_id,
        region_id=region.region_id,
        zone_id=zone.zone_id,
        cidr_block=str(cidr),
        name=name,
        description=description,
        created_at=call.now,
        available_at=call.now + PENDING_SECONDS,
        tags=vswitch_tags,
    )
    return {"VSwitchId": vswitch_id}


@action("Vpc", "DescribeVSwitches", mutates=False)
def describe_vswitches(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region_id = params.text("RegionId")
    if region_id is not None:
        sim.catalog.region(region_id)
    vpc_id = params.text("VpcId")
    if region_id is None and vpc_id is None:
        raise CloudError(
            "MissingParameter",
            'The input parameter "RegionId" that is mandatory for processing this request is not '
            "supplied.",
        )
    wanted = {v.strip() for v in (params.text("VSwitchId") or "").split(",") if v.strip()}
    zone_id = params.text("ZoneId")
    name = params.text("VSwitchName")
    tag_filter = tags.read_tag_filter(params)
    found = [
        s
        for s in sim.state.vswitches.values()
        if (region_id is None or s.region_id == region_id)
        and (not vpc_id or s.vpc_id == vpc_id)
        and (not wanted or s.vswitch_id in wanted)
        and (not zone_id or s.zone_id == zone_id)
        and (not name or s.name == name)
        and tags.matches(s.tags, tag_filter)
    ]
    page, number, size = page_by_number(params, found, max_size=50)
    return {
        "TotalCount": len(found),
        "PageNumber": number,
        "PageSize": size,
        "VSwitches": {"VSwitch": [_vswitch_view(sim, s, call.now) for s in page]},
    }


def _vswitch_view(sim: Simulator, vswitch: VSwitch, now: float) -> dict[str, Any]:
    vpc = sim.state.vpcs.get(vswitch.vpc_id)
    size = ipaddress.IPv4Network(vswitch.cidr_block).num_addresses
    return {
        "VSwitchId": vswitch.vswitch_id,
        "VpcId": vswitch.vpc_id,
        "Status": _status(vswitch.available_at, now),
        "CidrBlock": vswitch.cidr_block,
        "ZoneId": vswitch.zone_id,
        "AvailableIpAddressCount": max(0, size - 4 - vswitch.used),
        "Description": vswitch.description,
        "VSwitchName": vswitch.name,
        "CreationTime": iso_seconds(vswitch.created_at),
        "IsDefault": False,
        "OwnerId": ACCOUNT_ID,
        "ResourceGroupId": "rg-sim-default",
        "ShareType": "Sharing",
        "NetworkAclId": "",
        "EnabledIpv6": False,
        "Ipv6CidrBlock": "",
        "RouteTable": {
            "RouteTableId": vpc.route_table_id if vpc else "",
            "RouteTableType": "System",
        },
        "Tags": tags.vpc_view(vswitch.tags),
    }


@action("Vpc", "DeleteVSwitch")
def delete_vswitch(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region_id = params.text("RegionId")
    if region_id is not None:
        sim.catalog.region(region_id)
    vswitch = _vswitch(sim, region_id, params.required("VSwitchId"))
    if _status(vswitch.available_at, call.now) != "Available":
        raise CloudError(
            "IncorrectVSwitchStatus",
            "The current virtual switch status does not support this operation.",
            400,
        )
    if depends_on(sim, call.now, vswitch_id=vswitch.vswitch_id):
        raise CloudError("DependencyViolation", "Specified object has dependent resources.", 400)
    del sim.state.vswitches[vswitch.vswitch_id]
    return {}
