"""ECS security groups: create in a VPC, authorize ingress rules, describe, delete."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from cloudsim import ids, tags
from cloudsim.api import Call, action
from cloudsim.clock import iso_seconds
from cloudsim.ecs import depends_on
from cloudsim.ecs_run_validation import check_name
from cloudsim.errors import CloudError, dry_run_passed
from cloudsim.paging import page_by_number, page_by_offset_token, uses_tokens
from cloudsim.params import Params, json_string_list
from cloudsim.state import SecurityGroup

if TYPE_CHECKING:
    from cloudsim.simulator import Simulator

PROTOCOLS = ("TCP", "UDP", "ICMP", "GRE", "ALL")
MAX_RULES_PER_CALL = 100


def _group(sim: Simulator, region_id: str, group_id: str) -> SecurityGroup:
    group = sim.state.security_groups.get(group_id)
    if group is None or group.region_id != region_id:
        raise CloudError(
            "InvalidSecurityGroupId.NotFound",
            f"The specified SecurityGroupId does not exist: {group_id}.",
            404,
        )
    return group


@action("Ecs", "CreateSecurityGroup", client_token=True)
def create_security_group(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region = sim.catalog.region(params.required("RegionId"))
    vpc_id = params.required("VpcId")
    vpc = sim.state.vpcs.get(vpc_id)
    if vpc is None or vpc.region_id != region.region_id:
        raise CloudError("InvalidVpcId.NotFound", f"Specified VPC does not exist: {vpc_id}.", 404)
    name = params.text("SecurityGroupName", default="") or ""
    if name:
        check_name(name, "SecurityGroupName", "InvalidSecurityGroupName.Malformed")
    description = params.text("Description", default="", max_length=256) or ""
    group_type = (
        params.text("SecurityGroupType", default="normal", choices=("normal", "enterprise"))
        or "normal"
    )
    group_tags = tags.read_tags(params)
    if params.boolean("DryRun"):
        raise dry_run_passed()
    group_id = ids.resource_id("sg", region.id_prefix, sim.state.security_groups)
    sim.state.security_groups[group_id] = SecurityGroup(
        security_group_id=group_id,
        region_id=region.region_id,
        vpc_id=vpc_id,
        name=name,
        description=description,
        group_type=group_type,
        created_at=call.now,
        tags=group_tags,
    )
    return {"SecurityGroupId": group_id}


def _rule(raw: dict[str, str], index: int | None, now: float) -> dict[str, Any]:
    def name(field: str) -> str:
        return f"Permissions.{index}.{field}" if index is not None else field

    protocol = (raw.get("IpProtocol") or "").upper()
    if not protocol:
        raise CloudError(
            "MissingParameter",
            f'The input parameter "{name("IpProtocol")}" that is mandatory for processing this '
            "request is not supplied.",
        )
    if protocol not in PROTOCOLS:
        raise CloudError(
            "InvalidIpProtocol.Malformed",
            f'The specified parameter "{name("IpProtocol")}" is not valid: use tcp, udp, icmp, '
            "gre or all.",
        )
    port_range = raw.get("PortRange") or ""
    if not port_range:
        raise CloudError(
            "MissingParameter",
            f'The input parameter "{name("PortRange")}" that is mandatory for processing this '
            "request is not supplied.",
        )
    start_text, slash, end_text = port_range.partition("/")
    try:
        start, end = int(start_text), int(end_text)
    except ValueError:
        start, end = 0, -2
    if protocol in ("TCP", "UDP"):
        valid = bool(slash) and 1 <= start <= end <= 65535
    else:
        valid = (start, end) == (-1, -1)
    if not valid:
        raise CloudError(
            "InvalidPortRange.Malformed",
            f'The specified parameter "{name("PortRange")}" is not valid: {port_range!r} (tcp/udp '
            "take 1-65535 as start/end, e.g. 7860/7860; other protocols -1/-1).",
        )
    source = raw.get("SourceCidrIp") or ""
    if source:
        try:
            ipaddress.IPv4Network(source, strict=False)
        except ValueError:
            raise CloudError(
                "InvalidSourceCidrIp.Malformed",
                f'The specified parameter "{name("SourceCidrIp")}" is not valid: {source!r}.',
            ) from None
    elif not raw.get("SourceGroupId") and not raw.get("SourcePrefixListId"):
        raise CloudError(
            "MissingParameter",
            f'The input parameter "{name("SourceCidrIp")}" that is mandatory for processing this '
            "request is not supplied.",
        )
    policy = (raw.get("Policy") or "accept").lower()
    if policy not in ("accept", "drop"):
        raise CloudError(
            "InvalidPolicy.Malformed",
            f'The specified parameter "{name("Policy")}" is not valid: use accept or drop.',
        )
    priority_text = raw.get("Priority") or "1"
    if not priority_text.isdigit() or not 1 <= int(priority_text) <= 100:
        raise CloudError(
            "InvalidPriority.Malformed",
            f'The specified parameter "{name("Priority")}" is not valid: use 1 to 100.',
        )
    return {
        "Direction": "ingress",
        "IpProtocol": protocol,
        "PortRange": port_range,
        "SourceCidrIp": source,
        "SourceGroupId": raw.get("SourceGroupId") or "",
        "SourcePortRange": raw.get("SourcePortRange") or "",
        "Policy": policy.capitalize(),
        "Priority": str(int(priority_text)),
        "NicType": raw.get("NicType") or "intranet",
        "Description": raw.get("Description") or "",
        "CreateTime": iso_seconds(now),
    }


def _requested_rules(params: Params, now: float) -> list[dict[str, Any]]:
    permissions = params.structs("Permissions", max_items=MAX_RULES_PER_CALL)
    if permissions:
        return [_rule(raw, index, now) for index, raw in enumerate(permissions, start=1)]
    legacy = {
        field: params.values[field]
        for field in (
            "IpProtocol",
            "PortRange",
            "SourceCidrIp",
            "SourceGroupId",
            "Policy",
            "Priority",
            "NicType",
            "Description",
            "SourcePortRange",
        )
        if params.values.get(field)
    }
    if not legacy:
        raise CloudError(
            "MissingParameter",
            'The input parameter "Permissions" that is mandatory for processing this request is '
            "not supplied.",
        )
    return [_rule(legacy, None, now)]


_RULE_IDENTITY = ("IpProtocol", "PortRange", "SourceCidrIp", "SourceGroupId", "Policy", "NicType")


@action("Ecs", "AuthorizeSecurityGroup", client_token=True)
def authorize_security_group(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region_id = params.required("RegionId")
    sim.catalog.region(region_id)
    group = _group(sim, region_id, params.required("SecurityGroupId"))
    rules = _requested_rules(params, call.now)
    existing = {tuple(rule[k] for k in _RULE_IDENTITY) for rule in group.rules}
    for rule in rules:
        identity = tuple(rule[k] for k in _RULE_IDENTITY)
        if identity in existing:
            continue  # the cloud accepts a rule that already exists and changes nothing
        rule["SecurityGroupRuleId"] = ids.resource_id("sgr", "", (), length=20)
        group.rules.append(rule)
        existing.add(identity)
    return {}


def _ecs_count(sim: Simulator, group_id: str) -> int:
    return sum(1 for i in sim.state.instances.values() if group_id in i.security_group_ids)


@action("Ecs", "DescribeSecurityGroups", mutates=False)
def describe_security_groups(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region_id = params.required("RegionId")
    sim.catalog.region(region_id)
    vpc_id = params.text("VpcId")
    group_id = params.text("SecurityGroupId")
    raw_ids = params.json("SecurityGroupIds")
    wanted = (
        None
        if raw_ids is None
        else set(json_string_list(raw_ids, "SecurityGroupIds", max_items=100))
    )
    name = params.text("SecurityGroupName")
    tag_filter = tags.read_tag_filter(params)
    groups = [
        g
        for g in sim.state.security_groups.values()
        if g.region_id == region_id
        and (not vpc_id or g.vpc_id == vpc_id)
        and (not group_id or g.security_group_id == group_id)
        and (wanted is None or g.security_group_id in wanted)
        and (not name or g.name == name)
        and tags.matches(g.tags, tag_filter)
    ]
    body: dict[str, Any] = {"RegionId": region_id, "TotalCount": len(groups)}
    if uses_tokens(params):
        page, token = page_by_offset_token(params, groups, default_size=10, max_size=100)
        body.update({"NextToken": token, "PageNumber": 1, "PageSize": len(page)})
    else:
        page, number, size = page_by_number(params, groups, max_size=50)
        body.update({"NextToken": "", "PageNumber": number, "PageSize": size})
    body["SecurityGroups"] = {
        "SecurityGroup": [
            {
                "SecurityGroupId": g.security_group_id,
                "SecurityGroupName": g.name,
                "Description": g.description,
                "VpcId": g.vpc_id,
                "SecurityGroupType": g.group_type,
                "CreationTime": iso_seconds(g.created_at),
                "EcsCount": _ecs_count(sim, g.security_group_id),
                "AvailableInstanceAmount": 2000,
                "RuleCount": len(g.rules),
                "GroupToGroupRuleCount": sum(1 for r in g.rules if r["SourceGroupId"]),
                "ResourceGroupId": "",
                "ServiceManaged": False,
                "Tags": tags.ecs_view(g.tags),
            }
            for g in page
        ]
    }
    return body


@action("Ecs", "DescribeSecurityGroupAttribute", mutates=False)
def describe_security_group_attribute(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region_id = params.required("RegionId")
    sim.catalog.region(region_id)
    group = _group(sim, region_id, params.required("SecurityGroupId"))
    direction = params.text("Direction", default="all", choices=("all", "ingress", "egress"))
    rules = [r for r in group.rules if direction in ("all", r["Direction"])]
    return {
        "RegionId": region_id,
        "SecurityGroupId": group.security_group_id,
        "SecurityGroupName": group.name,
        "Description": group.description,
        "VpcId": group.vpc_id,
        "InnerAccessPolicy": "Accept",
        "Permissions": {
            "Permission": [
                {
                    **rule,
                    "DestCidrIp": "",
                    "DestGroupId": "",
                    "Ipv6SourceCidrIp": "",
                    "Ipv6DestCidrIp": "",
                }
                for rule in rules
            ]
        },
    }


@action("Ecs", "DeleteSecurityGroup")
def delete_security_group(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region_id = params.required("RegionId")
    sim.catalog.region(region_id)
    group = _group(sim, region_id, params.required("SecurityGroupId"))
    if depends_on(sim, call.now, security_group_id=group.security_group_id):
        raise CloudError(
            "DependencyViolation",
            "There is still instance(s) in the specified security group.",
            403,
        )
    del sim.state.security_groups[group.security_group_id]
    return {}
