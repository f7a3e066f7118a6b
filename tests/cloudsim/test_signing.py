"""Both signature algorithms, through the real SDKs, and the cloud's error answers."""

from __future__ import annotations

import re

import pytest
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_vpc20160428 import models as vpc_models

from tests.cloudsim import helpers

TRICKY = "ünïcødé 名字 * ~ + / & = ? % and  spaces"
REQUEST_ID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


@pytest.mark.parametrize("algorithm", [None, "v2"])
def test_it_verifies_signatures_with_unicode_and_special_characters(sim, algorithm):
    overrides = {"signature_algorithm": algorithm} if algorithm else {}
    client = helpers.vpc(sim, **overrides)
    created = client.create_vpc(
        vpc_models.CreateVpcRequest(
            region_id=helpers.REGION, cidr_block="192.168.0.0/16", description=TRICKY
        )
    )
    helpers.require(created.body, "vpc_id", "request_id")
    found = client.describe_vpcs(
        vpc_models.DescribeVpcsRequest(region_id=helpers.REGION, vpc_id=created.body.vpc_id)
    )
    helpers.require(found.body, "vpcs.vpc.0.description", "total_count")
    helpers.assert_typed(found.body)
    assert found.body.vpcs.vpc[0].description == TRICKY

    ecs = helpers.ecs(sim, **overrides)
    listed = ecs.describe_instances(
        ecs_models.DescribeInstancesRequest(region_id=helpers.REGION, instance_name=TRICKY)
    )
    helpers.require(listed.body, "total_count", "instances.instance")
    assert listed.body.total_count == 0


@pytest.mark.parametrize("algorithm", [None, "v2"])
def test_it_refuses_an_unknown_access_key(sim, algorithm):
    overrides = {"access_key_id": "who-is-this"}
    if algorithm:
        overrides["signature_algorithm"] = algorithm
    with pytest.raises(ClientException) as caught:
        helpers.ecs(sim, **overrides).describe_regions(ecs_models.DescribeRegionsRequest())
    assert caught.value.code == "InvalidAccessKeyId.NotFound"
    assert caught.value.status_code == 404


@pytest.mark.parametrize("algorithm", [None, "v2"])
def test_it_refuses_a_wrong_signature(sim, algorithm):
    overrides = {"access_key_secret": "not-the-secret"}
    if algorithm:
        overrides["signature_algorithm"] = algorithm
    with pytest.raises(ClientException) as caught:
        helpers.ecs(sim, **overrides).describe_regions(ecs_models.DescribeRegionsRequest())
    assert caught.value.code == "SignatureDoesNotMatch"
    assert caught.value.status_code == 400
    assert set(caught.value.data) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}


def test_it_answers_an_unknown_action_with_the_clouds_404(sim):
    with pytest.raises(ClientException) as caught:
        helpers.call_raw(helpers.ecs(sim), "2014-05-26", "LaunchRocket", {})
    assert caught.value.code == "InvalidAction.NotFound"
    assert caught.value.status_code == 404


def test_it_dispatches_on_version_and_action_together(sim):
    # DescribeRegions is an ECS action; under the VPC version it does not exist here.
    with pytest.raises(ClientException) as caught:
        helpers.call_raw(helpers.vpc(sim), "2016-04-28", "DescribeInstances", {})
    assert caught.value.code == "InvalidAction.NotFound"


def test_it_refuses_an_unsigned_request(sim):
    status, body, _ = helpers.http(
        "POST", f"{sim.base_url}/?Action=DescribeRegions&Version=2014-05-26"
    )
    assert status == 400
    assert body["Code"] == "IncompleteSignature"
    assert REQUEST_ID.match(body["RequestId"])


def test_every_answer_has_a_fresh_upper_case_request_id(sim):
    client = helpers.ecs(sim)
    first = client.describe_regions(ecs_models.DescribeRegionsRequest()).body.request_id
    second = client.describe_regions(ecs_models.DescribeRegionsRequest()).body.request_id
    assert REQUEST_ID.match(first) and REQUEST_ID.match(second)
    assert first != second


def test_it_accepts_extra_access_keys(tmp_path):
    from cloudsim.testing import start_sim

    other = start_sim(tmp_path, access_keys={"team-a": "secret-a", "team-b": "secret-b"})
    try:
        for key_id, secret in (("team-a", "secret-a"), ("team-b", "secret-b")):
            client = helpers.ecs(other, access_key_id=key_id, access_key_secret=secret)
            regions = client.describe_regions(ecs_models.DescribeRegionsRequest()).body
            helpers.require(regions, "regions.region.0.region_id")
        with pytest.raises(ClientException):
            helpers.ecs(
                other, access_key_id="nestops-sim", access_key_secret="nestops-sim-secret"
            ).describe_regions(ecs_models.DescribeRegionsRequest())
    finally:
        other.stop()
