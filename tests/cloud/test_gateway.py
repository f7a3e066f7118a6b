"""The gateway against a real cloudsim, through the official SDKs."""

from __future__ import annotations

import os
import socket

import pytest

from cloud import (
    Conflict,
    InvalidRequest,
    NoStock,
    NotFound,
    PermissionDenied,
    Throttled,
    Transient,
    clients,
    cms,
    ecs,
    oos,
    vpc,
)

REGION = "cn-hangzhou"


@pytest.fixture
def network(sim, request):
    """A VPC, vSwitch and security group of the test's own."""
    token = request.node.name[-40:]
    vpc_id, _ = vpc.create_vpc(
        REGION, cidr_block="192.168.0.0/16", name="gw-net", client_token="v" + token
    )
    wait_available(sim, lambda: vpc.describe_vpc(REGION, vpc_id))
    zone = first_zone_with_stock()
    vswitch_id, _ = vpc.create_vswitch(
        REGION,
        vpc_id=vpc_id,
        zone_id=zone[0],
        cidr_block="192.168.0.0/24",
        name="gw-net",
        client_token="s" + token,
    )
    wait_available(sim, lambda: vpc.describe_vswitch(REGION, vswitch_id))
    group_id, _ = ecs.create_security_group(
        REGION, vpc_id=vpc_id, name="gw-net", client_token="g" + token
    )
    return {"vpc": vpc_id, "vswitch": vswitch_id, "group": group_id, "zone": zone}


def wait_available(sim, describe) -> None:
    for _ in range(20):
        if describe().status == "Available":
            return
        sim.advance(1)
    raise AssertionError("never became Available")


def first_zone_with_stock() -> tuple[str, str]:
    for entry in ecs.describe_available_resource(REGION):
        if entry.in_stock and "gn6i" in (entry.instance_type or ""):
            return entry.zone_id, entry.instance_type
    raise AssertionError("cloudsim offers no gn6i type with stock in cn-hangzhou")


def run(network, token: str, **extra):
    zone_id, instance_type = network["zone"]
    return ecs.run_instances(
        REGION,
        zone_id=zone_id,
        instance_type=extra.pop("instance_type", instance_type),
        image_id="m-sim-sd-webui",
        security_group_id=network["group"],
        vswitch_id=network["vswitch"],
        instance_name="gw-test",
        client_token=token,
        tags={"nestops:test": "gateway"},
        **extra,
    )


def test_it_lists_regions_zones_and_gpu_types(sim) -> None:
    regions = {r.region_id for r in ecs.describe_regions()}
    assert REGION in regions
    assert ecs.describe_zones(REGION)
    types = ecs.describe_instance_types(REGION)
    gpus = {t.instance_type: t for t in types if t.gpu_amount > 0}
    t4 = gpus["ecs.gn6i-c4g1.xlarge"]
    assert t4.cpu == 4 and t4.gpu_amount == 1 and "T4" in t4.gpu_spec and t4.memory_gib > 0


def test_it_prices_an_hour_and_a_month_with_components(sim) -> None:
    zone_id, instance_type = first_zone_with_stock()
    hourly = ecs.describe_price(
        REGION, zone_id=zone_id, instance_type=instance_type, price_unit="Hour"
    )
    monthly = ecs.describe_price(
        REGION, zone_id=zone_id, instance_type=instance_type, price_unit="Month"
    )
    assert hourly.currency == "CNY"
    assert hourly.trade > 0 and monthly.trade > hourly.trade
    assert {"instanceType", "systemDisk", "bandwidth"} <= set(hourly.components)
    assert sum(c.trade for c in hourly.components.values()) == hourly.trade


def test_dry_run_is_success_and_creates_nothing(network, sim) -> None:
    result = run(network, "dry-run-token", dry_run=True)
    assert result.dry_run and result.instance_ids == []
    assert not ecs.describe_instances_page(REGION, tags={"nestops:dry": "x"}).instances


def test_a_repeated_client_token_returns_the_same_instance(network, sim) -> None:
    first = run(network, "same-token-1")
    again = run(network, "same-token-1")
    assert first.instance_ids == again.instance_ids and len(first.instance_ids) == 1
    with pytest.raises(Conflict) as caught:
        run(network, "same-token-1", bandwidth_out=5)
    assert caught.value.code == "IdempotentParameterMismatch"
    assert caught.value.request_id


def test_it_describes_instances_in_batches_of_one_hundred(network, sim) -> None:
    created = run(network, "batch-token", amount=3).instance_ids
    sim.reset_calls()
    found = ecs.describe_instances(
        REGION, [*created, "i-doesnotexist", *[f"i-x{n}" for n in range(120)]]
    )
    assert set(found) == set(created)
    assert sim.calls().get("Ecs.DescribeInstances") == 2
    instance = found[created[0]]
    assert instance.vpc_id == network["vpc"] and instance.vswitch_id == network["vswitch"]
    assert instance.tags["nestops:test"] == "gateway"
    assert instance.status in {"Pending", "Starting", "Running"}
    assert instance.private_ip and instance.creation_time is not None


def test_it_walks_pages_with_next_token(network, sim) -> None:
    created = set(run(network, "paging-token", amount=7).instance_ids)
    seen = set()
    page = ecs.describe_instances_page(REGION, tags={"nestops:test": "gateway"}, max_results=3)
    seen.update(i.instance_id for i in page.instances)
    while page.next_token:
        page = ecs.describe_instances_page(
            REGION, tags={"nestops:test": "gateway"}, max_results=3, next_token=page.next_token
        )
        seen.update(i.instance_id for i in page.instances)
    assert created <= seen
    assert created <= {
        i.instance_id for i in ecs.iter_instances(REGION, tags={"nestops:test": "gateway"})
    }


def wait_for_status(sim, instance_id: str, status: str) -> ecs.Instance:
    for _ in range(40):
        found = ecs.describe_instances(REGION, [instance_id]).get(instance_id)
        if found and found.status == status:
            return found
        sim.advance(5)
    raise AssertionError(f"{instance_id} never reached {status}")


def test_stop_with_stop_charging_then_start_meets_no_stock(network, sim) -> None:
    zone_id, instance_type = network["zone"]
    instance_id = run(network, "stock-token").instance_ids[0]
    running = wait_for_status(sim, instance_id, "Running")
    assert running.public_ip
    with pytest.raises(Conflict):
        ecs.start_instance(REGION, instance_id)
    assert ecs.stop_instance(REGION, instance_id, stopped_mode="StopCharging")
    stopped = wait_for_status(sim, instance_id, "Stopped")
    assert stopped.stopped_mode == "StopCharging" and stopped.public_ip is None
    sim.set_stock(zone_id, instance_type, 0)
    try:
        with pytest.raises(NoStock) as caught:
            ecs.start_instance(REGION, instance_id)
        assert caught.value.code == "OperationDenied.NoStock"
    finally:
        sim.set_stock(zone_id, instance_type, 50)
    ecs.start_instance(REGION, instance_id)
    assert wait_for_status(sim, instance_id, "Running").public_ip


def test_unknown_instances_are_not_found(sim) -> None:
    with pytest.raises(NotFound) as caught:
        ecs.stop_instance(REGION, "i-doesnotexist")
    assert caught.value.code == "InvalidInstanceId.NotFound"
    assert caught.value.message and caught.value.request_id


def test_bad_parameters_are_invalid_requests(network, sim) -> None:
    with pytest.raises(InvalidRequest):
        run(network, "bad-type", instance_type="ecs.nonexistent-type")


def test_throttling_and_server_errors_are_retryable(sim) -> None:
    sim.set_faults(action="DescribeRegions", throttle_ratio=1.0, count=1)
    with pytest.raises(Throttled) as caught:
        ecs.describe_regions()
    assert caught.value.retryable
    sim.set_faults(action="DescribeRegions", error_ratio=1.0, count=1)
    with pytest.raises(Transient):
        ecs.describe_regions()
    assert ecs.describe_regions()


def test_an_injected_quota_error_is_permission_denied(network, sim) -> None:
    sim.set_faults(action="RunInstances", code="QuotaExceed.ElasticQuota", http_status=403, count=1)
    with pytest.raises(PermissionDenied) as caught:
        run(network, "quota-token")
    assert caught.value.code == "QuotaExceed.ElasticQuota"


def test_a_refused_connection_is_transient(settings) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.NESTOPS_SIM_ENDPOINT = f"127.0.0.1:{port}"
    with pytest.raises(Transient) as caught:
        ecs.describe_regions()
    assert caught.value.code in {"NetworkError", "Timeout"}


def test_a_wrong_secret_is_permission_denied(sim, settings) -> None:
    settings.NESTOPS_SIM_ACCESS_KEY_SECRET = "not-the-secret"
    with pytest.raises(PermissionDenied) as caught:
        ecs.describe_regions()
    assert caught.value.code == "SignatureDoesNotMatch"
    settings.NESTOPS_SIM_ACCESS_KEY_ID = "unknown-key"
    with pytest.raises(PermissionDenied) as caught:
        ecs.describe_regions()
    assert caught.value.code == "InvalidAccessKeyId.NotFound"


def test_proxy_variables_never_reach_the_sdk(sim, settings, monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    settings.NESTOPS_CLOUD_READ_TIMEOUT_MS = 4321  # a new client, built with the proxy set
    assert ecs.describe_regions()
    assert "HTTP_PROXY" not in os.environ
    clients._clients.clear()


def test_vpc_rules_come_back_as_errors(sim) -> None:
    with pytest.raises(InvalidRequest):
        vpc.create_vpc(REGION, cidr_block="8.8.0.0/16", name="public", client_token="pub-vpc")
    vpc_id, _ = vpc.create_vpc(
        REGION, cidr_block="10.0.0.0/16", name="gw-n", client_token="dep-vpc"
    )
    wait_available(sim, lambda: vpc.describe_vpc(REGION, vpc_id))
    zone = ecs.describe_zones(REGION)[0].zone_id
    with pytest.raises(InvalidRequest):
        vpc.create_vswitch(
            REGION,
            vpc_id=vpc_id,
            zone_id=zone,
            cidr_block="172.16.0.0/24",
            name="gw-x",
            client_token="outside",
        )
    vswitch_id, _ = vpc.create_vswitch(
        REGION,
        vpc_id=vpc_id,
        zone_id=zone,
        cidr_block="10.0.1.0/24",
        name="gw-x",
        client_token="in",
    )
    wait_available(sim, lambda: vpc.describe_vswitch(REGION, vswitch_id))
    assert vpc.describe_vswitch(REGION, vswitch_id).vpc_id == vpc_id
    with pytest.raises(Conflict):
        vpc.delete_vpc(REGION, vpc_id)
    vpc.delete_vswitch(REGION, vswitch_id)
    for _ in range(20):
        if vpc.describe_vswitch(REGION, vswitch_id) is None:
            break
        sim.advance(1)
    vpc.delete_vpc(REGION, vpc_id)
    assert vpc.describe_vpc(REGION, vpc_id) is None


def test_a_script_runs_on_the_host_and_its_output_comes_back(network, sim) -> None:
    instance_id = run(network, "oos-token").instance_ids[0]
    wait_for_status(sim, instance_id, "Running")
    execution = oos.start_run_command(
        REGION,
        [instance_id],
        'echo "root=$NESTOPS_HOST_ROOT" >/dev/null; echo hello; exit 3',
        client_token="oos-exec-1",
    )
    for _ in range(100):
        found = oos.get_execution(REGION, execution.execution_id)
        if found and found.finished:
            break
        import time

        time.sleep(0.1)
    assert found.status == "Failed"
    assert found.outputs[0].exit_code == 3
    assert "hello" in found.outputs[0].output
    assert oos.list_task_executions(REGION, execution.execution_id)
    with pytest.raises(NotFound):
        oos.cancel_execution(REGION, "exec-doesnotexist")


def test_metrics_come_back_per_minute_for_a_running_host(network, sim) -> None:
    instance_id = run(network, "cms-token").instance_ids[0]
    wait_for_status(sim, instance_id, "Running")
    sim.advance(600)
    now_ms = int(sim.clock()["epoch_ms"])
    points = cms.describe_metric_list(
        REGION,
        metric="gpu_gpu_usedutilization",
        instance_ids=[instance_id],
        start_ms=now_ms - 300_000,
        end_ms=now_ms,
    )
    assert 4 <= len(points) <= 5
    assert all(p.instance_id == instance_id and 0 <= p.average <= 100 for p in points)
    assert cms.describe_metric_last(REGION, metric="CPUUtilization", instance_ids=[instance_id])
