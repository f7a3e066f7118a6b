"""VPC and vSwitch CIDR rules, pending status, idempotency and dependencies."""

from __future__ import annotations

import uuid

import pytest
from alibabacloud_ecs20140526 import models as em
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_vpc20160428 import models as vm

from tests.cloudsim import helpers


@pytest.fixture
def vpc(sim):
    return helpers.vpc(sim)


def _vpc(sim, vpc, cidr="172.16.0.0/16", **extra):
    vpc_id = vpc.create_vpc(
        vm.CreateVpcRequest(region_id=helpers.REGION, cidr_block=cidr, **extra)
    ).body.vpc_id
    sim.advance(1.5)
    return vpc_id


def _vswitch(vpc, vpc_id, cidr, zone=helpers.ZONE):
    return vpc.create_vswitch(
        vm.CreateVSwitchRequest(
            region_id=helpers.REGION, vpc_id=vpc_id, zone_id=zone, cidr_block=cidr
        )
    ).body.v_switch_id


def test_a_vpc_is_pending_then_available_and_shows_key_value_tags(sim, vpc):
    response = vpc.create_vpc(
        vm.CreateVpcRequest(
            region_id=helpers.REGION,
            cidr_block="172.16.0.0/12",
            vpc_name="nestops",
            tag=[vm.CreateVpcRequestTag(key="owner", value="nestops")],
        )
    )
    helpers.require(response.body, "vpc_id", "vrouter_id", "route_table_id", "request_id")
    vpc_id = response.body.vpc_id

    def status():
        body = vpc.describe_vpcs(
            vm.DescribeVpcsRequest(region_id=helpers.REGION, vpc_id=vpc_id)
        ).body
        return body

    body = status()
    helpers.assert_typed(body)
    assert body.vpcs.vpc[0].status == "Pending"
    sim.advance(1.5)
    found = status().vpcs.vpc[0]
    helpers.require(found, "status", "cidr_block", "v_switch_ids.v_switch_id", "tags.tag.0.key")
    assert (found.status, found.cidr_block, found.vpc_name) == (
        "Available",
        "172.16.0.0/12",
        "nestops",
    )
    assert (found.tags.tag[0].key, found.tags.tag[0].value) == ("owner", "nestops")


@pytest.mark.parametrize(
    ("cidr", "code"),
    [
        ("8.8.0.0/16", "InvalidCidrBlock.Malformed"),
        ("10.0.0.0/25", "InvalidCidrBlock.Malformed"),
        ("10.0.0.0/7", "InvalidCidrBlock.Malformed"),
        ("10.0.0.1/16", "InvalidCidrBlock.Malformed"),
        ("not-a-cidr", "InvalidCidrBlock.Malformed"),
    ],
)
def test_vpc_cidr_rules(vpc, cidr, code):
    with pytest.raises(ClientException) as caught:
        vpc.create_vpc(vm.CreateVpcRequest(region_id=helpers.REGION, cidr_block=cidr))
    assert (caught.value.code, caught.value.status_code) == (code, 400)


def test_vswitch_cidr_rules(sim, vpc):
    vpc_id = _vpc(sim, vpc, "172.18.0.0/16")
    helpers.require(
        vpc.create_vswitch(
            vm.CreateVSwitchRequest(
                region_id=helpers.REGION,
                vpc_id=vpc_id,
                zone_id=helpers.ZONE,
                cidr_block="172.18.1.0/24",
            )
        ).body,
        "v_switch_id",
    )
    cases = [
        ("172.19.0.0/24", "InvalidParameter"),  # outside the VPC
        ("172.18.1.128/25", "InvalidCidrBlock.Overlapped"),
        ("172.18.0.0/15", "InvalidCidrBlock.Malformed"),
        ("172.18.2.0/30", "InvalidCidrBlock.Malformed"),
    ]
    for cidr, code in cases:
        with pytest.raises(ClientException) as caught:
            _vswitch(vpc, vpc_id, cidr)
        assert caught.value.code == code, cidr
    with pytest.raises(ClientException) as caught:
        _vswitch(vpc, vpc_id, "172.18.3.0/24", zone="cn-shanghai-e")
    assert (caught.value.code, caught.value.status_code) == ("InvalidZoneId.NotFound", 404)
    with pytest.raises(ClientException) as caught:
        _vswitch(vpc, "vpc-missing", "172.18.3.0/24")
    assert (caught.value.code, caught.value.status_code) == ("InvalidVpcId.NotFound", 404)


def test_a_vswitch_needs_an_available_vpc(sim, vpc):
    vpc_id = vpc.create_vpc(
        vm.CreateVpcRequest(region_id=helpers.REGION, cidr_block="10.1.0.0/16")
    ).body.vpc_id
    with pytest.raises(ClientException) as caught:
        _vswitch(vpc, vpc_id, "10.1.0.0/24")
    assert caught.value.code == "IncorrectVpcStatus"
    sim.advance(1.5)
    vswitch_id = _vswitch(vpc, vpc_id, "10.1.0.0/24")
    body = vpc.describe_vswitches(
        vm.DescribeVSwitchesRequest(region_id=helpers.REGION, v_switch_id=vswitch_id)
    ).body
    helpers.assert_typed(body)
    found = body.v_switches.v_switch[0]
    helpers.require(
        found, "status", "zone_id", "cidr_block", "available_ip_address_count", "vpc_id"
    )
    assert found.status == "Pending"
    assert found.available_ip_address_count == 252


def test_create_vpc_is_idempotent_with_a_client_token(sim, vpc):
    token = uuid.uuid4().hex
    request = vm.CreateVpcRequest(
        region_id=helpers.REGION, cidr_block="10.2.0.0/16", client_token=token
    )
    first = vpc.create_vpc(request).body.vpc_id
    assert vpc.create_vpc(request).body.vpc_id == first
    with pytest.raises(ClientException) as caught:
        vpc.create_vpc(
            vm.CreateVpcRequest(
                region_id=helpers.REGION, cidr_block="10.3.0.0/16", client_token=token
            )
        )
    assert caught.value.code == "IdempotentParameterMismatch"


def test_dependencies_block_deletion_until_released(sim, vpc, network):
    ecs = helpers.ecs(sim)
    vpc_id = _vpc(sim, vpc, "192.168.0.0/16")
    vswitch_id = _vswitch(vpc, vpc_id, "192.168.10.0/24")
    group_id = ecs.create_security_group(
        em.CreateSecurityGroupRequest(region_id=helpers.REGION, vpc_id=vpc_id)
    ).body.security_group_id
    sim.advance(1.5)
    sim.set_stock(helpers.ZONE, helpers.T4, 100)
    [host_id] = helpers.run_instances(
        ecs, {"vswitch_id": vswitch_id, "security_group_id": group_id}
    ).body.instance_id_sets.instance_id_set

    with pytest.raises(ClientException) as caught:
        vpc.delete_vpc(vm.DeleteVpcRequest(region_id=helpers.REGION, vpc_id=vpc_id))
    assert (caught.value.code, caught.value.status_code) == ("DependencyViolation.VSwitch", 400)
    with pytest.raises(ClientException) as caught:
        vpc.delete_vswitch(
            vm.DeleteVSwitchRequest(region_id=helpers.REGION, v_switch_id=vswitch_id)
        )
    assert (caught.value.code, caught.value.status_code) == ("DependencyViolation", 400)
    with pytest.raises(ClientException) as caught:
        ecs.delete_security_group(
            em.DeleteSecurityGroupRequest(region_id=helpers.REGION, security_group_id=group_id)
        )
    assert (caught.value.code, caught.value.status_code) == ("DependencyViolation", 403)

    ecs.delete_instance(em.DeleteInstanceRequest(instance_id=host_id, force=True))
    # A deleted host still holds its security group and vSwitch for a few sim seconds.
    with pytest.raises(ClientException) as caught:
        ecs.delete_security_group(
            em.DeleteSecurityGroupRequest(region_id=helpers.REGION, security_group_id=group_id)
        )
    assert caught.value.code == "DependencyViolation"
    sim.advance(3.5)
    ecs.delete_security_group(
        em.DeleteSecurityGroupRequest(region_id=helpers.REGION, security_group_id=group_id)
    )
    vpc.delete_vswitch(vm.DeleteVSwitchRequest(region_id=helpers.REGION, v_switch_id=vswitch_id))
    vpc.delete_vpc(vm.DeleteVpcRequest(region_id=helpers.REGION, vpc_id=vpc_id))
    body = vpc.describe_vpcs(vm.DescribeVpcsRequest(region_id=helpers.REGION, vpc_id=vpc_id)).body
    assert body.total_count == 0


def test_a_vpc_with_a_security_group_cannot_be_deleted(sim, vpc):
    ecs = helpers.ecs(sim)
    vpc_id = _vpc(sim, vpc, "10.9.0.0/16")
    group_id = ecs.create_security_group(
        em.CreateSecurityGroupRequest(region_id=helpers.REGION, vpc_id=vpc_id)
    ).body.security_group_id
    with pytest.raises(ClientException) as caught:
        vpc.delete_vpc(vm.DeleteVpcRequest(region_id=helpers.REGION, vpc_id=vpc_id))
    assert caught.value.code == "DependencyViolation.SecurityGroup"
    ecs.delete_security_group(
        em.DeleteSecurityGroupRequest(region_id=helpers.REGION, security_group_id=group_id)
    )
    vpc.delete_vpc(vm.DeleteVpcRequest(region_id=helpers.REGION, vpc_id=vpc_id))
    with pytest.raises(ClientException) as caught:
        vpc.delete_vpc(vm.DeleteVpcRequest(region_id=helpers.REGION, vpc_id=vpc_id))
    assert (caught.value.code, caught.value.status_code) == ("InvalidVpcId.NotFound", 404)


def test_run_instances_needs_an_available_vswitch(sim, vpc):
    ecs = helpers.ecs(sim)
    vpc_id = _vpc(sim, vpc, "10.4.0.0/16")
    vswitch_id = _vswitch(vpc, vpc_id, "10.4.0.0/24")
    group_id = ecs.create_security_group(
        em.CreateSecurityGroupRequest(region_id=helpers.REGION, vpc_id=vpc_id)
    ).body.security_group_id
    with pytest.raises(ClientException) as caught:
        helpers.run_instances(
            ecs, {"vswitch_id": vswitch_id, "security_group_id": group_id}, dry_run=True
        )
    assert caught.value.code == "IncorrectVSwitchStatus"
