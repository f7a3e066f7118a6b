"""ECS security groups of the hosts' VPCs: create, open ports, read the rules, delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cloud.clients import ECS, call, request_model
from cloud.types import as_int, items


@dataclass(frozen=True)
class Permission:
    """One inbound rule of a security group."""

    port_range: str
    source_cidr: str
    protocol: str = "TCP"
    policy: str = "Accept"
    priority: int = 1
    description: str = ""


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
    request = request_model(
        ECS,
        "DeleteSecurityGroupRequest",
        region_id=region,
        security_group_id=security_group_id,
    )
    data = call(ECS, region, "DeleteSecurityGroup", request)
    return str(data.get("RequestId") or "")
