"""CloudMonitor series derived from what happens on each host."""

from __future__ import annotations

import json
import time

import pytest
from alibabacloud_cms20190101 import models as cm
from alibabacloud_ecs20140526 import models as em
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.cloudsim import helpers

GPU = "gpu_gpu_usedutilization"


@pytest.fixture
def cms(sim):
    return helpers.cms(sim)


def _now_ms(sim) -> int:
    return sim.clock()["epoch_ms"]


def _series(cms, metric, ids, start_ms, end_ms, period=60, length=None, next_token=None):
    body = cms.describe_metric_list(
        cm.DescribeMetricListRequest(
            namespace="acs_ecs_dashboard",
            metric_name=metric,
            dimensions=json.dumps([{"instanceId": i} for i in ids]),
            start_time=str(start_ms),
            end_time=str(end_ms),
            period=str(period),
            length=None if length is None else str(length),
            next_token=next_token,
        )
    ).body
    helpers.require(body, "code", "success", "period", "datapoints", "request_id")
    helpers.assert_typed(body)
    assert (body.code, body.success) == ("200", True)
    return json.loads(body.datapoints), body.next_token


def test_an_idle_host_shows_a_near_zero_gpu(sim, cms, make_hosts):
    [host_id] = make_hosts()
    start = _now_ms(sim)
    sim.advance(600)
    points, token = _series(cms, GPU, [host_id], start, _now_ms(sim) + 60_000)
    assert token is None
    assert 9 <= len(points) <= 11
    for point in points:
        assert set(point) >= {"timestamp", "instanceId", "userId", "Average", "Maximum", "Minimum"}
        assert point["timestamp"] % 60_000 == 0 and start <= point["timestamp"]
        assert point["instanceId"] == host_id
        assert 0 <= point["Minimum"] <= point["Average"] <= point["Maximum"] <= 5
    assert [p["timestamp"] for p in points] == sorted(p["timestamp"] for p in points)
    # The same question gets the same answer: values are functions, not random draws.
    assert (
        _series(cms, GPU, [host_id], start, _now_ms(sim))[0]
        == _series(cms, GPU, [host_id], start, _now_ms(sim))[0]
    )


def test_load_makes_the_gpu_busy_for_its_duration(sim, cms, make_hosts):
    busy, idle = make_hosts(2)
    start = _now_ms(sim)
    sim.load(busy, gpu=92, seconds=300)
    sim.advance(600)
    points, _ = _series(cms, GPU, [busy, idle], start, _now_ms(sim))
    assert [p["instanceId"] for p in points[:2]] == sorted([busy, idle])
    loaded = [p for p in points if p["instanceId"] == busy and p["timestamp"] < start + 240_000]
    assert loaded and all(85 <= p["Average"] <= 99 for p in loaded)
    later = [p for p in points if p["instanceId"] == busy and p["timestamp"] > start + 360_000]
    assert later and all(p["Average"] < 5 for p in later)
    assert all(p["Average"] < 5 for p in points if p["instanceId"] == idle)
    cpu, _ = _series(cms, "CPUUtilization", [busy], start, start + 240_000)
    assert all(p["Average"] > 10 for p in cpu)
    memory, _ = _series(cms, "memory_usedutilization", [busy], start, start + 240_000)
    assert all(40 < p["Average"] < 80 for p in memory)
    network, _ = _series(cms, "InternetOutRate", [busy], start, start + 240_000)
    assert all(p["Average"] > 100_000 for p in network)


def test_generating_through_the_webui_makes_the_gpu_busy(sim, cms, make_hosts):
    [host_id] = make_hosts()
    sim.advance(60)
    start = _now_ms(sim)
    status, _, _ = helpers.http(
        "POST", f"{sim.webui_url(host_id)}/sdapi/v1/txt2img", {"prompt": "busy", "steps": 10}
    )
    assert status == 200
    sim.advance(180)
    points, _ = _series(cms, GPU, [host_id], start - 60_000, _now_ms(sim))
    # The job began at or a little after `start` (sim time runs 20x): its minute or the next.
    during = [p for p in points if start - 60_000 <= p["timestamp"] <= start + 60_000]
    assert during and max(p["Average"] for p in during) >= 80
    assert points[-1]["Average"] < 5
    assert sim.instance(host_id)["activity"][-1]["gpu"] == "webui"


def test_a_stopped_host_has_no_points(sim, cms, make_hosts):
    [host_id] = make_hosts()
    sim.advance(120)
    helpers.ecs(sim).stop_instance(em.StopInstanceRequest(instance_id=host_id))
    stopped_at = _now_ms(sim)
    sim.advance(600)
    points, _ = _series(cms, GPU, [host_id], stopped_at - 120_000, _now_ms(sim))
    assert points and all(p["timestamp"] <= stopped_at for p in points)


def test_longer_periods_aggregate_minutes(sim, cms, make_hosts):
    [host_id] = make_hosts()
    sim.advance(3600)
    end = _now_ms(sim)
    points, _ = _series(cms, "gpu_gpu_temperature", [host_id], end - 1_800_000, end, period=300)
    assert points and all(p["timestamp"] % 300_000 == 0 for p in points)
    assert all(p["Minimum"] <= p["Average"] <= p["Maximum"] for p in points)
    assert 25 <= points[0]["Average"] <= 45


def test_paging_with_next_token_returns_every_point_once(sim, cms, make_hosts):
    ids = make_hosts(3)
    start = _now_ms(sim)
    sim.advance(300)
    everything, _ = _series(cms, "CPUUtilization", ids, start, _now_ms(sim))
    pages, token = [], None
    while True:
        points, token = _series(
            cms, "CPUUtilization", ids, start, _now_ms(sim), length=4, next_token=token
        )
        assert len(points) <= 4
        pages += points
        if not token:
            break
    assert pages == everything
    assert [(p["timestamp"], p["instanceId"]) for p in pages] == sorted(
        (p["timestamp"], p["instanceId"]) for p in pages
    )


def test_times_may_be_given_as_text(sim, cms, make_hosts):
    [host_id] = make_hosts()
    start = _now_ms(sim)
    sim.advance(300)
    as_text = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(start / 1000))
    body = cms.describe_metric_list(
        cm.DescribeMetricListRequest(
            namespace="acs_ecs_dashboard",
            metric_name=GPU,
            dimensions=json.dumps([{"instanceId": host_id}]),
            start_time=as_text,
        )
    ).body
    assert len(json.loads(body.datapoints)) >= 4


def test_metric_last_gives_the_latest_point_of_each_host(sim, cms, make_hosts):
    ids = make_hosts(2)
    sim.advance(300)
    body = cms.describe_metric_last(
        cm.DescribeMetricLastRequest(
            namespace="acs_ecs_dashboard",
            metric_name="gpu_memory_usedutilization",
            dimensions=json.dumps([{"instanceId": i} for i in ids]),
            period="60",
        )
    ).body
    helpers.require(body, "code", "success", "datapoints", "period")
    points = json.loads(body.datapoints)
    assert sorted(p["instanceId"] for p in points) == sorted(ids)
    now = _now_ms(sim)
    assert all(now - 60_000 <= p["timestamp"] <= now for p in points)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        (
            {"dimensions": json.dumps([{"instanceId": f"i-{n}"} for n in range(51)])},
            "InvalidParameter",
        ),
        ({"dimensions": "[not json"}, "InvalidParameter"),
        ({"period": "61"}, "InvalidParameter"),
        ({"metric_name": "disk_magic"}, "InvalidParameter"),
        ({"namespace": "acs_rds_dashboard"}, "InvalidParameter"),
        ({"start_time": "yesterday"}, "InvalidParameter"),
        ({"length": "1441"}, "InvalidParameter"),
        ({"metric_name": None}, "MissingParameter"),
    ],
)
def test_bad_queries_get_the_cms_error_shape(cms, overrides, code):
    values = {"namespace": "acs_ecs_dashboard", "metric_name": GPU, **overrides}
    with pytest.raises(ClientException) as caught:
        cms.describe_metric_list(cm.DescribeMetricListRequest(**values))
    assert caught.value.code == code
    assert caught.value.data["Success"] is False
