"""The account's pay-as-you-go vCPU quota (ECS DescribeAccountAttributes, RunInstances'
QuotaExceed.ElasticQuota) and its balance (BSS QueryAccountBalance), through the SDKs."""

from __future__ import annotations

from typing import Any

import pytest
from alibabacloud_bssopenapi20171214.client import Client as BssClient
from alibabacloud_ecs20140526 import models as m
from alibabacloud_tea_openapi.exceptions import ClientException
from darabonba.runtime import RuntimeOptions

from tests.cloudsim import helpers

NAMES = ["max-postpaid-instance-vcpu-count", "used-postpaid-instance-vcpu-count"]


def _attributes(client: Any) -> dict[str, list[Any]]:
    body = client.describe_account_attributes(
        m.DescribeAccountAttributesRequest(region_id=helpers.REGION, attribute_name=NAMES)
    ).body
    helpers.require(body, "account_attribute_items.account_attribute_item")
    return {
        item.attribute_name: item.attribute_values.value_item
        for item in body.account_attribute_items.account_attribute_item
    }


@pytest.fixture
def account(sim):
    yield sim
    sim.reset_account()


def test_the_quota_and_its_use_follow_the_pay_as_you_go_hosts(account, ecs, make_hosts) -> None:
    account.set_account(vcpu_quota=40)
    before = _attributes(ecs)
    assert set(before) == set(NAMES)
    assert before[NAMES[0]][0].value == "40"
    assert before[NAMES[0]][0].instance_charge_type == "PostPaid"
    used = int(before[NAMES[1]][0].value)
    (instance_id,) = make_hosts(1)
    assert int(_attributes(ecs)[NAMES[1]][0].value) == used + 4  # gn6i-c4g1.xlarge: 4 vCPUs
    ecs.delete_instance(m.DeleteInstanceRequest(instance_id=instance_id, force=True))
    assert int(_attributes(ecs)[NAMES[1]][0].value) == used


def test_a_launch_over_the_quota_is_refused_and_creates_nothing(
    account, ecs, network, make_hosts
) -> None:
    used = int(_attributes(ecs)[NAMES[1]][0].value)
    account.set_account(vcpu_quota=used + 4)
    before = len(account.state()["instances"])
    for dry_run in (True, False):
        with pytest.raises(ClientException) as refused:
            helpers.run_instances(ecs, network, amount=2, dry_run=dry_run)
        assert refused.value.status_code == 403
        assert refused.value.code == "QuotaExceed.ElasticQuota"
    assert len(account.state()["instances"]) == before
    assert len(make_hosts(1)) == 1  # one host still fits


def test_the_balance_is_answered_and_configurable(account) -> None:
    bss = BssClient(helpers.config(account))
    account.set_account(available_amount=12.5)
    body = bss.query_account_balance_with_options(RuntimeOptions()).body
    helpers.require(body, "data.available_amount", "data.currency", "data.credit_amount")
    assert body.success is True and body.code == "200"
    assert body.data.available_amount == "12.50"
    assert body.data.currency == "CNY"


def test_the_bss_read_needs_its_policy(account) -> None:
    account.add_ram_user("ram-no-bss", "ram-no-bss-secret", ["AliyunECSReadOnlyAccess"])
    keys = {"access_key_id": "ram-no-bss", "access_key_secret": "ram-no-bss-secret"}
    with pytest.raises(ClientException) as denied:
        BssClient(helpers.config(account, **keys)).query_account_balance()
    assert denied.value.status_code == 403
    assert denied.value.data["AccessDeniedDetail"]["AuthAction"] == "bss:QueryAccountBalance"
    _attributes(helpers.ecs(account, **keys))  # ECS read-only reads the quota
    account.add_ram_user("ram-bss", "ram-bss-secret", ["AliyunBSSReadOnlyAccess"])
    allowed = {"access_key_id": "ram-bss", "access_key_secret": "ram-bss-secret"}
    assert BssClient(helpers.config(account, **allowed)).query_account_balance().body.data


def test_the_control_api_refuses_a_bad_quota(account) -> None:
    with pytest.raises(Exception, match="400"):
        account.set_account(vcpu_quota=-1)
