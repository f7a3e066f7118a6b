"""Security groups: creation in a VPC, ingress rules and their validation."""

from __future__ import annotations

import pytest
from alibabacloud_ecs20140526 import models as m
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.cloudsim import helpers

Permission = m.AuthorizeSecurityGroupRequestPermissions


def test_a_group_opens_the_webui_port(ecs, network):
    group_id = ecs.create_security_group(
        m.CreateSecurityGroupRequest(
            region_id=helpers.REGION,
            vpc_id=network["vpc_id"],
            security_group_name="sd-webui",
            tag=[m.CreateSecurityGroupRequestTag(key="app", value="nestops")],
        )
    ).body.security_group_id
    rules = [
        Permission(
            ip_protocol="tcp",
            port_range="7860/7860",
            source_cidr_ip="0.0.0.0/0",
            description="webui",
            priority="1",
            policy="accept",
        ),
        Permission(ip_protocol="tcp", port_range="22/22", source_cidr_ip="203.0.113.0/24"),
    ]
    request = m.AuthorizeSecurityGroupRequest(
        region_id=helpers.REGION, security_group_id=group_id, permissions=rules
    )
    helpers.require(ecs.authorize_security_group(request).body, "request_id")
    ecs.authorize_security_group(request)  # the same rules again change nothing

    attribute = ecs.describe_security_group_attribute(
        m.DescribeSecurityGroupAttributeRequest(
            region_id=helpers.REGION, security_group_id=group_id
        )
    ).body
    helpers.assert_typed(attribute)
    permissions = attribute.permissions.permission
    assert len(permissions) == 2
    webui = permissions[0]
    helpers.require(
        webui,
        "ip_protocol",
        "port_range",
        "source_cidr_ip",
        "policy",
        "priority",
        "direction",
        "security_group_rule_id",
    )
    assert (webui.ip_protocol, webui.port_range, webui.source_cidr_ip, webui.policy) == (
        "TCP",
        "7860/7860",
        "0.0.0.0/0",
        "Accept",
    )

    groups = ecs.describe_security_groups(
        m.DescribeSecurityGroupsRequest(
            region_id=helpers.REGION,
            vpc_id=network["vpc_id"],
            tag=[m.DescribeSecurityGroupsRequestTag(key="app", value="nestops")],
        )
    ).body
    helpers.assert_typed(groups)
    assert [g.security_group_id for g in groups.security_groups.security_group] == [group_id]
    found = groups.security_groups.security_group[0]
    helpers.require(found, "security_group_name", "vpc_id", "creation_time", "tags.tag.0.tag_key")
    assert found.tags.tag[0].tag_value == "nestops"


@pytest.mark.parametrize(
    ("permission", "code"),
    [
        (
            Permission(ip_protocol="tcpx", port_range="7860/7860", source_cidr_ip="0.0.0.0/0"),
            "InvalidIpProtocol.Malformed",
        ),
        (
            Permission(ip_protocol="tcp", port_range="7860", source_cidr_ip="0.0.0.0/0"),
            "InvalidPortRange.Malformed",
        ),
        (
            Permission(ip_protocol="tcp", port_range="0/7860", source_cidr_ip="0.0.0.0/0"),
            "InvalidPortRange.Malformed",
        ),
        (
            Permission(ip_protocol="tcp", port_range="7861/7860", source_cidr_ip="0.0.0.0/0"),
            "InvalidPortRange.Malformed",
        ),
        (
            Permission(ip_protocol="icmp", port_range="1/2", source_cidr_ip="0.0.0.0/0"),
            "InvalidPortRange.Malformed",
        ),
        (
            Permission(ip_protocol="tcp", port_range="1/2", source_cidr_ip="300.0.0.0/8"),
            "InvalidSourceCidrIp.Malformed",
        ),
        (Permission(ip_protocol="tcp", port_range="1/2"), "MissingParameter"),
        (
            Permission(
                ip_protocol="tcp", port_range="1/2", source_cidr_ip="1.2.3.4", policy="maybe"
            ),
            "InvalidPolicy.Malformed",
        ),
        (
            Permission(
                ip_protocol="tcp", port_range="1/2", source_cidr_ip="1.2.3.4", priority="101"
            ),
            "InvalidPriority.Malformed",
        ),
    ],
)
def test_rules_are_validated(ecs, network, permission, code):
    with pytest.raises(ClientException) as caught:
        ecs.authorize_security_group(
            m.AuthorizeSecurityGroupRequest(
                region_id=helpers.REGION,
                security_group_id=network["security_group_id"],
                permissions=[permission],
            )
        )
    assert caught.value.code == code


def test_a_group_needs_an_existing_vpc(ecs):
    with pytest.raises(ClientException) as caught:
        ecs.create_security_group(m.CreateSecurityGroupRequest(region_id=helpers.REGION))
    assert caught.value.code == "MissingParameter"
    with pytest.raises(ClientException) as caught:
        ecs.create_security_group(
            m.CreateSecurityGroupRequest(region_id=helpers.REGION, vpc_id="vpc-nope")
        )
    assert (caught.value.code, caught.value.status_code) == ("InvalidVpcId.NotFound", 404)


def test_unknown_groups_are_not_found(ecs):
    for call in (
        lambda: ecs.delete_security_group(
            m.DeleteSecurityGroupRequest(region_id=helpers.REGION, security_group_id="sg-nope")
        ),
        lambda: ecs.describe_security_group_attribute(
            m.DescribeSecurityGroupAttributeRequest(
                region_id=helpers.REGION, security_group_id="sg-nope"
            )
        ),
    ):
        with pytest.raises(ClientException) as caught:
            call()
        assert (caught.value.code, caught.value.status_code) == (
            "InvalidSecurityGroupId.NotFound",
            404,
        )
