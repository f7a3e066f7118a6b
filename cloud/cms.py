"""CMS 2019-01-01 (CloudMonitor): per-minute host metrics."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cloud.clients import CMS, call, request_model
from cloud.errors import InvalidRequest, Transient
from cloud.types import as_float

NAMESPACE = "acs_ecs_dashboard"
MAX_INSTANCES_PER_CALL = 50


@dataclass(frozen=True)
class Datapoint:
    instance_id: str
    timestamp_ms: int
    average: float
    maximum: float
    minimum: float


def _check(data: dict, action: str) -> None:
    # CMS answers some failures with HTTP 200 and Code != "200": check both.
    code = str(data.get("Code") or "200")
    if code != "200" or data.get("Success") is False:
        kind = Transient if code.startswith("5") else InvalidRequest
        raise kind(
            code,
            str(data.get("Message") or "CloudMonitor refused the call"),
            request_id=data.get("RequestId"),
            action=action,
        )


def _points(raw: object) -> list[Datapoint]:
    try:
        decoded = json.loads(raw) if isinstance(raw, str) and raw else (raw or [])
    except json.JSONDecodeError:
        return []
    return [
        Datapoint(
            instance_id=str(p.get("instanceId") or ""),
            timestamp_ms=int(p["timestamp"]),
            average=as_float(p.get("Average")),
            maximum=as_float(p.get("Maximum", p.get("Average"))),
            minimum=as_float(p.get("Minimum", p.get("Average"))),
        )
        for p in decoded
        if isinstance(p, dict) and "timestamp" in p
    ]


def describe_metric_list(
    region: str,
    *,
    metric: str,
    instance_ids: Sequence[str],
    start_ms: int,
    end_ms: int,
    period: int = 60,
) -> list[Datapoint]:
    """Points for up to 50 hosts in [start_ms, end_ms), following NextToken."""
    if len(instance_ids) > MAX_INSTANCES_PER_CALL:
        raise ValueError(f"DescribeMetricList takes at most {MAX_INSTANCES_PER_CALL} hosts")
    dimensions = json.dumps([{"instanceId": i} for i in instance_ids])
    found: list[Datapoint] = []
    next_token: str | None = None
    while True:
        request = request_model(
            CMS,
            "DescribeMetricListRequest",
            namespace=NAMESPACE,
            metric_name=metric,
            dimensions=dimensions,
            start_time=str(start_ms),
            end_time=str(end_ms),
            period=str(period),
            length="1440",
            next_token=next_token,
        )
        data = call(CMS, region, "DescribeMetricList", request)
        _check(data, "DescribeMetricList")
        found.extend(_points(data.get("Datapoints")))
        next_token = data.get("NextToken") or None
        if not next_token:
            return found


def describe_metric_last(
    region: str, *, metric: str, instance_ids: Sequence[str], period: int = 60
) -> list[Datapoint]:
    """The latest point of each host (at most 50 hosts)."""
    if len(instance_ids) > MAX_INSTANCES_PER_CALL:
        raise ValueError(f"DescribeMetricLast takes at most {MAX_INSTANCES_PER_CALL} hosts")
    request = request_model(
        CMS,
        "DescribeMetricLastRequest",
        namespace=NAMESPACE,
        metric_name=metric,
        dimensions=json.dumps([{"instanceId": i} for i in instance_ids]),
        period=str(period),
    )
    data = call(CMS, region, "DescribeMetricLast", request)
    _check(data, "DescribeMetricLast")
    return _points(data.get("Datapoints"))
