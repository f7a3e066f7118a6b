"""RAM users: a key with a set of system policies is denied everything else, as the cloud
denies a RAM user (403, Forbidden.RAM or NoPermission, with AccessDeniedDetail)."""

from __future__ import annotations

import pytest
from alibabacloud_ecs20140526 import models as m
from alibabacloud_oos20190601 import models as oos_models
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_vpc20160428 import models as vpc_models

from tests.cloudsim import helpers


@pytest.fixture
def read_only(sim):
    sim.add_ram_user("ram-read-only", "ram-read-only-secret", ["AliyunECSReadOnlyAccess"])
    keys = {"access_key_id": "ram-read-only", "access_key_secret": "ram-read-only-secret"}
    return keys


def test_a_read_only_user_reads_ecs_and_is_denied_writes_and_other_products(sim, read_only):
    ecs = helpers.ecs(sim, **read_only)
    ecs.describe_regions(m.DescribeRegionsRequest())
    with pytest.raises(ClientException) as denied:
        ecs.delete_instance(m.DeleteInstanceRequest(instance_id="i-bp1nothing"))
    assert denied.value.status_code == 403
    assert denied.value.code == "Forbidden.RAM"
    detail = denied.value.data["AccessDeniedDetail"]
    assert detail["AuthAction"] == "ecs:DeleteInstance"
    assert detail["NoPermissionType"] == "ImplicitDeny"
    with pytest.raises(ClientException) as vpc_denied:
        helpers.vpc(sim, **read_only).describe_vpcs(
            vpc_models.DescribeVpcsRequest(region_id=helpers.REGION)
        )
    assert vpc_denied.value.code == "Forbidden.RAM"
    with pytest.raises(ClientException) as oos_denied:
        helpers.oos(sim, **read_only).list_executions(
            oos_models.ListExecutionsRequest(region_id=helpers.REGION)
        )
    assert oos_denied.value.code == "NoPermission"


def test_the_accounts_own_key_may_do_everything_and_unknown_policies_are_refused(sim):
    helpers.ecs(sim).delete_image(
        m.DeleteImageRequest(region_id=helpers.REGION, image_id="m-bp1nothing")
    )
    with pytest.raises(Exception, match="unknown system policies"):
        sim.add_ram_user("ram-bad", "secret", ["NoSuchPolicy"])
