"""RunInstances, DescribeInstances and the instance state machine, through the ECS SDK."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from alibabacloud_ecs20140526 import models as m
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.cloudsim import helpers


def _token() -> str:
    return f"test-{uuid.uuid4().hex}"


def test_run_instances_creates_running_hosts_with_every_field(sim, ecs, network):
    sim.set_stock(helpers.ZONE, helpers.T4, 10)
    response = helpers.run_instances(
        ecs,
        network,
        amount=2,
        instance_name="sd-host",
        tag=[m.RunInstancesRequestTag(key="nestops:instance", value="si-abc")],
    )
    helpers.require(response.body, "instance_id_sets.instance_id_set", "order_id", "trade_price")
    helpers.assert_typed(response.body)
    ids = response.body.instance_id_sets.instance_id_set
    assert len(ids) == 2 and all(re.match(r"^i-bp1[a-z0-9]{17}$", i) for i in ids)

    pending = helpers.describe(ecs, ids)
    assert {i.status for i in pending.values()} == {"Pending"}
    sim.advance(2.5)
    assert {i.status for i in helpers.describe(ecs, ids).values()} == {"Starting"}
    sim.advance(3)
    hosts = helpers.describe(ecs, ids)
    host = hosts[ids[0]]
    helpers.require(
        host,
        "instance_id",
        "instance_name",
        "status",
        "stopped_mode",
        "instance_type",
        "cpu",
        "memory",
        "gpuamount",
        "gpuspec",
        "region_id",
        "zone_id",
        "image_id",
        "instance_charge_type",
        "internet_max_bandwidth_out",
        "creation_time",
        "start_time",
        "expired_time",
        "public_ip_address.ip_address.0",
        "vpc_attributes.vpc_id",
        "vpc_attributes.v_switch_id",
        "vpc_attributes.private_ip_address.ip_address.0",
        "security_group_ids.security_group_id.0",
        "tags.tag.0.tag_key",
        "tags.tag.0.tag_value",
        "operation_locks.lock_reason",
    )
    helpers.assert_typed(host)
    assert host.status == "Running"
    assert host.stopped_mode == "Not-applicable"
    assert (host.cpu, host.memory, host.gpuamount, host.gpuspec) == (4, 15 * 1024, 1, "NVIDIA T4")
    assert host.expired_time == "2099-12-31T15:59Z"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\dZ$", host.creation_time)
    assert host.public_ip_address.ip_address[0].startswith("47.")
    private = host.vpc_attributes.private_ip_address.ip_address[0]
    assert private.startswith("10.20.")
    assert host.tags.tag[0].tag_key == "nestops:instance"
    assert host.instance_name == "sd-host"
    assert host.operation_locks.lock_reason == []


def test_a_host_without_bandwidth_gets_no_public_ip(make_hosts, ecs):
    [host_id] = make_hosts(internet_max_bandwidth_out=0)
    assert helpers.describe(ecs, [host_id])[host_id].public_ip_address.ip_address == []


def test_dry_run_validates_everything_and_creates_nothing(sim, ecs, network):
    sim.set_stock(helpers.ZONE, helpers.T4, 3)
    before = len(sim.state()["instances"])
    with pytest.raises(ClientException) as caught:
        helpers.run_instances(ecs, network, amount=3, dry_run=True)
    assert caught.value.code == "DryRunOperation"
    assert len(sim.state()["instances"]) == before
    # The DryRun checks stock too.
    with pytest.raises(ClientException) as caught:
        helpers.run_instances(ecs, network, amount=4, dry_run=True)
    assert caught.value.code == "OperationDenied.NoStock"


def test_client_token_returns_the_original_answer_and_refuses_other_parameters(sim, ecs, network):
    sim.set_stock(helpers.ZONE, helpers.T4, 1)
    token = _token()
    first = helpers.run_instances(ecs, network, client_token=token)
    # Stock is now empty, but the same request with the same token is not a new purchase.
    again = helpers.run_instances(ecs, network, client_token=token)
    assert (
        again.body.instance_id_sets.instance_id_set == first.body.instance_id_sets.instance_id_set
    )
    assert again.body.request_id != first.body.request_id
    with pytest.raises(ClientException) as caught:
        helpers.run_instances(ecs, network, client_token=token, instance_name="other")
    assert caught.value.code == "IdempotentParameterMismatch"
    assert caught.value.status_code == 400


def test_a_failed_call_does_not_use_up_its_client_token(sim, ecs, network):
    token = _token()
    sim.set_stock(helpers.ZONE, helpers.T4, 0)
    with pytest.raises(ClientException) as caught:
        helpers.run_instances(ecs, network, client_token=token)
    assert caught.value.code == "OperationDenied.NoStock"
    assert caught.value.status_code == 403
    sim.set_stock(helpers.ZONE, helpers.T4, 1)
    created = helpers.run_instances(ecs, network, client_token=token)
    assert len(created.body.instance_id_sets.instance_id_set) == 1


def test_stock_is_consumed_per_host(sim, ecs, network):
    sim.set_stock(helpers.ZONE, helpers.A10, 5)
    helpers.run_instances(ecs, network, instance_type=helpers.A10, amount=3)
    with pytest.raises(ClientException) as caught:
        helpers.run_instances(ecs, network, instance_type=helpers.A10, amount=3)
    assert caught.value.code == "OperationDenied.NoStock"
    helpers.run_instances(ecs, network, instance_type=helpers.A10, amount=2)
    stock = {
        (s["zone_id"], s["instance_type"]): s["available"]
        for s in sim.request("GET", "/_sim/stock")
    }
    assert stock[(helpers.ZONE, helpers.A10)] == 0


@pytest.mark.parametrize("amount", [0, 101])
def test_amount_is_one_to_a_hundred(sim, ecs, network, amount):
    with pytest.raises(ClientException) as caught:
        helpers.run_instances(ecs, network, amount=amount)
    assert caught.value.code == "InvalidParameter"


def test_a_hundred_hosts_in_one_call(make_hosts, ecs):
    ids = make_hosts(100)
    assert len(set(ids)) == 100
    hosts = helpers.describe(ecs, ids)
    assert len(hosts) == 100
    assert len({h.vpc_attributes.private_ip_address.ip_address[0] for h in hosts.values()}) == 100


@pytest.mark.parametrize(
    ("overrides", "code", "status"),
    [
        ({"region_id": None}, "MissingParameter", 400),
        ({"region_id": "xx-nowhere-1"}, "InvalidRegionId.NotFound", 404),
        ({"instance_type": "ecs.t1.tiny"}, "InvalidInstanceType.ValueNotSupported", 400),
        ({"instance_type": "ecs.gn6v-c8g1.2xlarge"}, "InvalidInstanceType.ZoneNotSupported", 403),
        ({"image_id": "m-nope"}, "InvalidImageId.NotFound", 404),
        ({"v_switch_id": None}, "MissingParameter", 400),
        ({"v_switch_id": "vsw-nope"}, "InvalidVSwitchId.NotFound", 404),
        ({"security_group_id": "sg-nope"}, "InvalidSecurityGroupId.NotFound", 404),
        ({"zone_id": "cn-hangzhou-h"}, "InvalidParameter.Mismatch", 400),
        ({"zone_id": "cn-shanghai-e"}, "InvalidZoneId.NotFound", 404),
        ({"password": "short1A"}, "InvalidPassword.Malformed", 400),
        ({"password": "alllowercase123"}, "InvalidPassword.Malformed", 400),
        ({"password": "Has space 123"}, "InvalidPassword.Malformed", 400),
        ({"instance_charge_type": "Free"}, "InvalidInstanceChargeType.NotFound", 404),
        ({"instance_charge_type": "PrePaid"}, "MissingParameter", 400),
        ({"instance_charge_type": "PrePaid", "period": 10}, "InvalidPeriod", 400),
        (
            {"instance_charge_type": "PrePaid", "period": 5, "period_unit": "Week"},
            "InvalidPeriod",
            400,
        ),
        ({"internet_max_bandwidth_out": 101}, "InvalidParameter", 400),
        ({"internet_charge_type": "PayByMood"}, "InvalidInternetChargeType.ValueNotSupported", 400),
        (
            {"system_disk": m.RunInstancesRequestSystemDisk(category="cloud_floppy")},
            "InvalidSystemDiskCategory.ValueNotSupported",
            400,
        ),
        (
            {"system_disk": m.RunInstancesRequestSystemDisk(category="cloud_essd", size=20)},
            "InvalidSystemDiskSize.LessThanImageSize",
            400,
        ),
        ({"instance_name": "1-starts-with-a-digit"}, "InvalidInstanceName.Malformed", 400),
        ({"host_name": "-bad-"}, "InvalidHostName.Malformed", 400),
        ({"client_token": "x" * 65}, "InvalidClientToken.ValueNotSupported", 400),
        (
            {"tag": [m.RunInstancesRequestTag(key="aliyun:x", value="v")]},
            "InvalidTagKey.Malformed",
            400,
        ),
        ({"user_data": "not base64!"}, "InvalidUserData.Base64FormatInvalid", 400),
    ],
)
def test_run_instances_validates_every_parameter(sim, ecs, network, overrides, code, status):
    sim.set_stock(helpers.ZONE, helpers.T4, 100)
    with pytest.raises(ClientException) as caught:
        helpers.run_instances(ecs, network, **overrides)
    assert (caught.value.code, caught.value.status_code) == (code, status)


def test_the_password_rule_accepts_three_kinds_of_characters(sim, ecs, network):
    sim.set_stock(helpers.ZONE, helpers.T4, 100)
    for password in ("abcdef12!", "ABCDEF12abc", "Abcdefgh()`~"):
        helpers.run_instances(ecs, network, password=password, dry_run=None)


def test_a_subscription_expires_and_cannot_be_deleted_before(sim, ecs, network, make_hosts):
    [host_id] = make_hosts(instance_charge_type="PrePaid", period=1, period_unit="Month", amount=1)
    host = helpers.describe(ecs, [host_id])[host_id]
    assert host.instance_charge_type == "PrePaid"
    assert re.match(r"^\d{4}-\d\d-\d\dT16:00Z$", host.expired_time)
    ecs.stop_instance(m.StopInstanceRequest(instance_id=host_id, stopped_mode="StopCharging"))
    sim.advance(6)
    # A subscription host cannot stop charging: it stops as KeepCharging.
    assert helpers.describe(ecs, [host_id])[host_id].stopped_mode == "KeepCharging"
    with pytest.raises(ClientException) as caught:
        ecs.delete_instance(m.DeleteInstanceRequest(instance_id=host_id))
    assert (caught.value.code, caught.value.status_code) == ("ChargeTypeViolation", 403)
    ecs.delete_instance(m.DeleteInstanceRequest(instance_id=host_id, terminate_subscription=True))
    assert helpers.describe(ecs, [host_id]) == {}


def test_an_expired_subscription_can_be_deleted(sim, ecs, make_hosts):
    [host_id] = make_hosts(instance_charge_type="PrePaid", period=1, period_unit="Week")
    ecs.stop_instance(m.StopInstanceRequest(instance_id=host_id))
    sim.advance(9 * 86400)
    ecs.delete_instance(m.DeleteInstanceRequest(instance_id=host_id))
    assert helpers.describe(ecs, [host_id]) == {}


def test_describe_instances_takes_a_json_id_list_with_spaces_and_omits_unknown_ids(ecs, make_hosts):
    ids = make_hosts(3)
    raw = "[ " + " ,  ".join(json.dumps(i) for i in [*ids, "i-doesnotexist"]) + " ]"
    body = ecs.describe_instances(
        m.DescribeInstancesRequest(region_id=helpers.REGION, instance_ids=raw)
    ).body
    helpers.require(body, "total_count", "page_number", "page_size", "instances.instance")
    helpers.assert_typed(body)
    assert body.total_count == 3
    assert sorted(i.instance_id for i in body.instances.instance) == sorted(ids)


@pytest.mark.parametrize(
    ("instance_ids", "code"),
    [
        ("[i-1, i-2]", "InvalidInstanceIds.Malformed"),
        ('{"a": 1}', "InvalidInstanceIds.Malformed"),
        (json.dumps([f"i-{n}" for n in range(101)]), "InvalidInstanceIds.Malformed"),
    ],
)
def test_describe_instances_refuses_bad_id_lists(ecs, instance_ids, code):
    with pytest.raises(ClientException) as caught:
        ecs.describe_instances(
            m.DescribeInstancesRequest(region_id=helpers.REGION, instance_ids=instance_ids)
        )
    assert caught.value.code == code


def test_describe_instances_filters_by_tags_status_and_network(sim, ecs, network, make_hosts):
    marker = uuid.uuid4().hex[:8]
    tagged = make_hosts(2, tag=[m.RunInstancesRequestTag(key="batch", value=marker)])
    make_hosts(1, tag=[m.RunInstancesRequestTag(key="batch", value="other")])
    ecs.stop_instance(m.StopInstanceRequest(instance_id=tagged[0]))
    sim.advance(6)

    def find(**filters):
        request = m.DescribeInstancesRequest(region_id=helpers.REGION, page_size=100, **filters)
        return {i.instance_id for i in ecs.describe_instances(request).body.instances.instance}

    by_tag = find(tag=[m.DescribeInstancesRequestTag(key="batch", value=marker)])
    assert by_tag == set(tagged)
    assert find(
        tag=[m.DescribeInstancesRequestTag(key="batch", value=marker)], status="Stopped"
    ) == {tagged[0]}
    assert set(tagged) <= find(tag=[m.DescribeInstancesRequestTag(key="batch")])
    mine = [m.DescribeInstancesRequestTag(key="batch", value=marker)]
    assert find(vpc_id=network["vpc_id"], zone_id=helpers.ZONE, tag=mine) == set(tagged)
    assert find(vpc_id="vpc-elsewhere", tag=mine) == set()
    assert find(zone_id="cn-hangzhou-h", tag=mine) == set()


def test_describe_instances_pages_both_ways(ecs, make_hosts):
    marker = uuid.uuid4().hex[:8]
    ids = make_hosts(25, tag=[m.RunInstancesRequestTag(key="page", value=marker)])
    tag = [m.DescribeInstancesRequestTag(key="page", value=marker)]

    numbered = []
    for number in (1, 2, 3):
        body = ecs.describe_instances(
            m.DescribeInstancesRequest(
                region_id=helpers.REGION, tag=tag, page_number=number, page_size=10
            )
        ).body
        assert (body.total_count, body.page_number, body.page_size) == (25, number, 10)
        numbered += [i.instance_id for i in body.instances.instance]
    assert numbered == ids

    tokened, token, calls = [], None, 0
    while True:
        body = ecs.describe_instances(
            m.DescribeInstancesRequest(
                region_id=helpers.REGION, tag=tag, max_results=10, next_token=token
            )
        ).body
        calls += 1
        tokened += [i.instance_id for i in body.instances.instance]
        token = body.next_token
        if not token:
            break
    assert tokened == ids and calls == 3

    with pytest.raises(ClientException) as caught:
        ecs.describe_instances(m.DescribeInstancesRequest(region_id=helpers.REGION, page_size=101))
    assert caught.value.code == "InvalidParameter"
    with pytest.raises(ClientException) as caught:
        ecs.describe_instances(
            m.DescribeInstancesRequest(region_id=helpers.REGION, max_results=101)
        )
    assert caught.value.code == "InvalidParameter"


def test_stop_charging_releases_gpu_and_ip_and_start_needs_stock_again(sim, ecs, make_hosts):
    [host_id] = make_hosts(zone_id=helpers.ZONE, instance_type=helpers.A10)
    first_ip = helpers.describe(ecs, [host_id])[host_id].public_ip_address.ip_address[0]
    ecs.stop_instance(m.StopInstanceRequest(instance_id=host_id, stopped_mode="StopCharging"))
    assert helpers.describe(ecs, [host_id])[host_id].status == "Stopping"
    sim.advance(5.5)
    host = helpers.describe(ecs, [host_id])[host_id]
    assert (host.status, host.stopped_mode) == ("Stopped", "StopCharging")
    assert host.public_ip_address.ip_address == []

    sim.set_stock(helpers.ZONE, helpers.A10, 0)
    with pytest.raises(ClientException) as caught:
        ecs.start_instance(m.StartInstanceRequest(instance_id=host_id))
    assert (caught.value.code, caught.value.status_code) == ("OperationDenied.NoStock", 403)

    sim.set_stock(helpers.ZONE, helpers.A10, 1)
    ecs.start_instance(m.StartInstanceRequest(instance_id=host_id))
    assert helpers.describe(ecs, [host_id])[host_id].status == "Starting"
    sim.advance(5.5)
    host = helpers.describe(ecs, [host_id])[host_id]
    assert host.status == "Running"
    assert host.public_ip_address.ip_address and host.public_ip_address.ip_address[0] != first_ip
    assert sim.instance(host_id)["holds_stock"] is True


def test_keep_charging_is_the_default_stop_and_keeps_the_ip(sim, ecs, make_hosts):
    [host_id] = make_hosts()
    ip = helpers.describe(ecs, [host_id])[host_id].public_ip_address.ip_address
    ecs.stop_instance(m.StopInstanceRequest(instance_id=host_id))
    sim.advance(5.5)
    host = helpers.describe(ecs, [host_id])[host_id]
    assert (host.status, host.stopped_mode) == ("Stopped", "KeepCharging")
    assert host.public_ip_address.ip_address == ip
    sim.set_stock(helpers.ZONE, helpers.T4, 0)
    ecs.start_instance(m.StartInstanceRequest(instance_id=host_id))  # it never gave its GPU back


def test_the_cloud_refuses_transitions_a_status_does_not_allow(sim, ecs, network, make_hosts):
    [running] = make_hosts()
    sim.set_stock(helpers.ZONE, helpers.T4, 10)
    [pending] = helpers.run_instances(ecs, network).body.instance_id_sets.instance_id_set

    def refused(call, **kwargs):
        with pytest.raises(ClientException) as caught:
            call(**kwargs)
        assert (caught.value.code, caught.value.status_code) == ("IncorrectInstanceStatus", 403)

    refused(lambda **k: ecs.stop_instance(m.StopInstanceRequest(**k)), instance_id=pending)
    refused(lambda **k: ecs.start_instance(m.StartInstanceRequest(**k)), instance_id=running)
    refused(lambda **k: ecs.delete_instance(m.DeleteInstanceRequest(**k)), instance_id=running)
    refused(
        lambda **k: ecs.modify_instance_spec(m.ModifyInstanceSpecRequest(**k)),
        instance_id=running,
        instance_type=helpers.A10,
    )
    ecs.stop_instance(m.StopInstanceRequest(instance_id=running))
    refused(lambda **k: ecs.stop_instance(m.StopInstanceRequest(**k)), instance_id=running)
    sim.advance(6)
    refused(lambda **k: ecs.stop_instance(m.StopInstanceRequest(**k)), instance_id=running)
    refused(lambda **k: ecs.reboot_instance(m.RebootInstanceRequest(**k)), instance_id=running)

    with pytest.raises(ClientException) as caught:
        ecs.start_instance(m.StartInstanceRequest(instance_id="i-bp1doesnotexist0000"))
    assert (caught.value.code, caught.value.status_code) == ("InvalidInstanceId.NotFound", 404)


def test_reboot_goes_through_stopping_and_starting(sim, ecs, make_hosts):
    [host_id] = make_hosts()
    ecs.reboot_instance(m.RebootInstanceRequest(instance_id=host_id))
    assert helpers.describe(ecs, [host_id])[host_id].status == "Stopping"
    sim.advance(3.5)
    assert helpers.describe(ecs, [host_id])[host_id].status == "Starting"
    sim.advance(3)
    assert helpers.describe(ecs, [host_id])[host_id].status == "Running"
    statuses = [h["status"] for h in sim.instance(host_id)["history"]]
    assert statuses[-3:] == ["Stopping", "Starting", "Running"]


def test_modify_instance_spec_changes_a_stopped_pay_as_you_go_host(sim, ecs, make_hosts):
    [host_id] = make_hosts()
    ecs.stop_instance(m.StopInstanceRequest(instance_id=host_id))
    sim.advance(6)
    sim.set_stock(helpers.ZONE, helpers.A10, 0)
    with pytest.raises(ClientException) as caught:
        ecs.modify_instance_spec(
            m.ModifyInstanceSpecRequest(instance_id=host_id, instance_type=helpers.A10)
        )
    assert caught.value.code == "OperationDenied.NoStock"
    sim.set_stock(helpers.ZONE, helpers.A10, 1)
    token = _token()
    request = m.ModifyInstanceSpecRequest(
        instance_id=host_id, instance_type=helpers.A10, client_token=token
    )
    helpers.require(ecs.modify_instance_spec(request).body, "request_id")
    ecs.modify_instance_spec(request)  # same token: the same answer, not a second change
    host = helpers.describe(ecs, [host_id])[host_id]
    assert (host.instance_type, host.gpuspec, host.cpu) == (helpers.A10, "NVIDIA A10", 8)
    with pytest.raises(ClientException) as caught:
        ecs.modify_instance_spec(
            m.ModifyInstanceSpecRequest(instance_id=host_id, instance_type="ecs.gn6v-c8g1.2xlarge")
        )
    assert caught.value.code == "InvalidInstanceType.ZoneNotSupported"


def test_modify_instance_spec_refuses_subscriptions(sim, ecs, make_hosts):
    [host_id] = make_hosts(instance_charge_type="PrePaid", period=1)
    ecs.stop_instance(m.StopInstanceRequest(instance_id=host_id))
    sim.advance(6)
    with pytest.raises(ClientException) as caught:
        ecs.modify_instance_spec(
            m.ModifyInstanceSpecRequest(instance_id=host_id, instance_type=helpers.A10)
        )
    assert caught.value.code == "InvalidInstanceChargeType.ValueNotSupported"


def test_delete_forces_a_running_host_and_releases_everything(sim, ecs, make_hosts):
    sim.set_stock(helpers.ZONE, helpers.T4, 1000)
    [host_id] = make_hosts()
    sandbox = sim.instance(host_id)["sandbox"]
    stock_before = {
        (s["zone_id"], s["instance_type"]): s["available"]
        for s in sim.request("GET", "/_sim/stock")
    }[(helpers.ZONE, helpers.T4)]
    with pytest.raises(ClientException) as caught:
        ecs.delete_instance(m.DeleteInstanceRequest(instance_id=host_id, dry_run=True, force=True))
    assert caught.value.code == "DryRunOperation"
    ecs.delete_instance(m.DeleteInstanceRequest(instance_id=host_id, force=True))
    assert helpers.describe(ecs, [host_id]) == {}
    stock_after = {
        (s["zone_id"], s["instance_type"]): s["available"]
        for s in sim.request("GET", "/_sim/stock")
    }[(helpers.ZONE, helpers.T4)]
    assert stock_after == stock_before + 1
    import os

    assert not os.path.exists(sandbox)
    with pytest.raises(ClientException) as caught:
        ecs.delete_instance(m.DeleteInstanceRequest(instance_id=host_id, force=True))
    assert caught.value.code == "InvalidInstanceId.NotFound"
