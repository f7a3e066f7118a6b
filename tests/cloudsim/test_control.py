"""The /_sim/ control API: clock, faults, stock, load, calls, reset, loopback only."""

from __future__ import annotations

import time
import uuid

import pytest
from alibabacloud_ecs20140526 import models as m
from alibabacloud_tea_openapi.exceptions import (
    ClientException,
    ServerException,
    ThrottlingException,
)
from alibabacloud_vpc20160428 import models as vm
from darabonba.exceptions import UnretryableException

from cloudsim.config import SimConfig
from cloudsim.simulator import Simulator
from cloudsim.testing import SimError, start_sim
from tests.cloudsim import helpers


def test_the_clock_advances_and_changes_speed(sim):
    before = sim.clock()
    assert set(before) == {"now", "epoch_ms", "speed"} and before["now"].endswith("Z")
    after = sim.advance(3600)
    assert after["epoch_ms"] - before["epoch_ms"] >= 3_600_000
    assert sim.set_speed(5)["speed"] == 5
    assert sim.set_speed(20)["speed"] == 20
    with pytest.raises(SimError, match="400"):
        sim.request("POST", "/_sim/clock", {"advance": -1})
    with pytest.raises(SimError, match="400"):
        sim.request("POST", "/_sim/clock", {})


def test_throttling_carries_a_retry_after(sim, ecs):
    sim.set_faults(action="DescribeRegions", throttle_ratio=1, count=1, retry_after_ms=750)
    with pytest.raises(ThrottlingException) as caught:
        ecs.describe_regions(m.DescribeRegionsRequest())
    assert caught.value.code == "Throttling.User"
    assert caught.value.retry_after == 750
    helpers.require(ecs.describe_regions(m.DescribeRegionsRequest()).body, "regions")


def test_server_errors_are_5xx(sim, ecs):
    sim.set_faults(action="Ecs.DescribeRegions", error_ratio=1, count=3)
    for _ in range(3):
        with pytest.raises(ServerException) as caught:
            ecs.describe_regions(m.DescribeRegionsRequest())
        assert (caught.value.code, caught.value.status_code) in (
            ("ServiceUnavailable", 503),
            ("InternalError", 500),
        )
    ecs.describe_regions(m.DescribeRegionsRequest())


def test_a_specific_cloud_error_can_be_injected(sim, ecs, network):
    sim.set_faults(action="RunInstances", code="QuotaExceed.ElasticQuota", http_status=403, count=1)
    with pytest.raises(ClientException) as caught:
        helpers.run_instances(ecs, network, dry_run=True)
    assert (caught.value.code, caught.value.status_code) == ("QuotaExceed.ElasticQuota", 403)
    faults = sim.request("GET", "/_sim/faults")
    assert faults["rules"] == []  # count used up


def test_rules_match_their_product_only_when_qualified(sim):
    sim.set_faults(action="Vpc.DescribeVpcs", error_ratio=1)
    with pytest.raises(ServerException):
        helpers.vpc(sim).describe_vpcs(vm.DescribeVpcsRequest(region_id=helpers.REGION))
    helpers.ecs(sim).describe_regions(m.DescribeRegionsRequest())


def test_latency_is_added(sim, ecs):
    sim.set_faults(action="*", latency_ms=300)
    began = time.monotonic()
    ecs.describe_regions(m.DescribeRegionsRequest())
    assert time.monotonic() - began >= 0.3


def test_a_hung_create_still_happens_and_the_client_token_finds_it(sim, network):
    sim.set_stock(helpers.ZONE, helpers.T4, 100)
    slow = helpers.ecs(sim, read_timeout=300)
    token = uuid.uuid4().hex
    sim.set_faults(action="RunInstances", timeout_ratio=1, hang_ms=800, count=1)
    with pytest.raises(UnretryableException):
        helpers.run_instances(slow, network, client_token=token)
    time.sleep(0.8)
    retried = helpers.run_instances(helpers.ecs(sim), network, client_token=token)
    [host_id] = retried.body.instance_id_sets.instance_id_set
    assert sim.instance(host_id)["status"] in ("Pending", "Starting", "Running")


def test_seeded_faults_repeat_the_same_pattern(sim, ecs):
    def pattern():
        sim.request("POST", "/_sim/faults", {"seed": 1234})
        outcomes = []
        for _ in range(16):
            try:
                ecs.describe_regions(m.DescribeRegionsRequest())
                outcomes.append("ok")
            except ThrottlingException:
                outcomes.append("throttled")
        return outcomes

    sim.set_faults(action="DescribeRegions", throttle_ratio=0.5)
    first = pattern()
    assert pattern() == first
    assert {"ok", "throttled"} == set(first)


def test_bad_fault_rules_are_refused(sim):
    for rule in (
        {"throttle_ratio": 2},
        {"http_status": 200, "code": "X"},
        {"count": 0},
        {"colour": "red"},
    ):
        with pytest.raises(SimError, match="400"):
            sim.request("POST", "/_sim/faults", rule)
    sim.clear_faults()
    assert sim.request("GET", "/_sim/faults")["rules"] == []


def test_stock_can_be_read_and_set(sim):
    sim.set_stock("cn-beijing-g", helpers.T4, 7)
    stock = {
        (s["zone_id"], s["instance_type"]): s["available"]
        for s in sim.request("GET", "/_sim/stock")
    }
    assert stock[("cn-beijing-g", helpers.T4)] == 7
    with pytest.raises(SimError, match="400"):
        sim.set_stock("cn-beijing-g", "ecs.gn7e-c16g1.4xlarge", 1)  # not offered there
    with pytest.raises(SimError, match="400"):
        sim.set_stock("cn-beijing-g", helpers.T4, -1)


def test_load_needs_a_host_and_sane_numbers(sim, make_hosts):
    [host_id] = make_hosts()
    sim.load(host_id, gpu=50, seconds=60)
    assert sim.instance(host_id)["activity"][-1]["gpu"] == 50
    with pytest.raises(SimError, match="404"):
        sim.load("i-nope", gpu=50, seconds=60)
    with pytest.raises(SimError, match="400"):
        sim.load(host_id, gpu=150, seconds=60)


def test_calls_are_counted_per_product_and_action(sim, ecs):
    sim.reset_calls()
    for _ in range(3):
        ecs.describe_regions(m.DescribeRegionsRequest())
    helpers.vpc(sim).describe_vpcs(vm.DescribeVpcsRequest(region_id=helpers.REGION))
    assert sim.calls() == {"Ecs.DescribeRegions": 3, "Vpc.DescribeVpcs": 1}


def test_state_lists_everything(sim, make_hosts, network):
    [host_id] = make_hosts()
    state = sim.state()
    assert {"clock", "instances", "vpcs", "vswitches", "security_groups", "executions"} <= set(
        state
    )
    mine = next(i for i in state["instances"] if i["instance_id"] == host_id)
    assert mine["status"] == "Running" and mine["webui_url"] == sim.webui_url(host_id)
    assert network["vpc_id"] in {v["vpc_id"] for v in state["vpcs"]}
    detail = sim.instance(host_id)
    assert detail["unit"] == "active" and detail["history"][0]["status"] == "Pending"
    with pytest.raises(SimError, match="404"):
        sim.instance("i-unknown")
    with pytest.raises(SimError, match="404"):
        sim.request("GET", "/_sim/nothing")


def test_reset_wipes_everything(tmp_path):
    other = start_sim(tmp_path)
    try:
        client = helpers.vpc(other)
        client.create_vpc(vm.CreateVpcRequest(region_id=helpers.REGION, cidr_block="10.0.0.0/8"))
        other.set_stock(helpers.ZONE, helpers.T4, 0)
        other.reset()
        assert other.state()["vpcs"] == []
        stock = {
            (s["zone_id"], s["instance_type"]): s["available"]
            for s in other.request("GET", "/_sim/stock")
        }
        assert stock[(helpers.ZONE, helpers.T4)] == 60
        assert other.calls() == {}
    finally:
        other.stop()


def test_the_control_api_answers_loopback_clients_only(tmp_path):
    sim = Simulator(SimConfig(data_dir=tmp_path))
    assert sim.control.handle("GET", "/_sim/clock", "10.0.0.8", b"")[0] == 403
    assert sim.control.handle("GET", "/_sim/clock", "127.0.0.1", b"")[0] == 200
    assert sim.control.handle("GET", "/_sim/clock", "::1", b"")[0] == 200
    assert sim.control.handle("POST", "/_sim/clock", "127.0.0.1", b"{nope")[0] == 400
