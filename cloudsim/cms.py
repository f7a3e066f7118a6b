"""CMS 2019-01-01 (CloudMonitor): DescribeMetricList and DescribeMetricLast for ECS hosts.

Points sit on period boundaries in [StartTime, EndTime), up to sim now, only where the host
was Running at that moment, ordered by timestamp then instance id. ``Datapoints`` is a JSON
string, ``Code`` the string "200", like the real service.
"""

from __future__ import annotations

import calendar
import json
import math
import time
from typing import TYPE_CHECKING, Any

from cloudsim.api import Call, action
from cloudsim.catalog import ACCOUNT_ID
from cloudsim.errors import invalid
from cloudsim.metrics import METRICS, point
from cloudsim.paging import decode_token, encode_token
from cloudsim.state import Instance

if TYPE_CHECKING:
    from cloudsim.simulator import Simulator

NAMESPACE = "acs_ecs_dashboard"
PERIODS = (60, 300, 900, 3600)
MAX_DIMENSIONS = 50
MAX_LENGTH = 1440
DEFAULT_LENGTH = 1000
DEFAULT_WINDOW = 3600


def parse_time(value: str, name: str) -> float:
    """Milliseconds since the epoch, ``YYYY-MM-DD hh:mm:ss`` or ``YYYY-MM-DDThh:mm:ssZ`` (UTC)."""
    text = value.strip()
    if text.isdigit():
        return int(text) / 1000.0
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return float(calendar.timegm(time.strptime(text, pattern)))
        except ValueError:
            continue
    raise invalid(name, "Use milliseconds since the epoch or 'YYYY-MM-DD hh:mm:ss' (UTC).")


def _hosts(sim: Simulator, call: Call) -> list[Instance]:
    raw = call.params.json("Dimensions")
    if raw is None:
        hosts = [*sim.state.instances.values(), *sim.state.deleted.values()]
        return sorted(hosts, key=lambda i: i.instance_id)
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not all(
        isinstance(d, dict) and isinstance(d.get("instanceId"), str) for d in raw
    ):
        raise invalid("Dimensions", 'Use a JSON array such as [{"instanceId": "i-..."}].')
    if len(raw) > MAX_DIMENSIONS:
        raise invalid("Dimensions", f"At most {MAX_DIMENSIONS} dimensions per call.")
    found = {d["instanceId"]: sim.state.any_instance(d["instanceId"]) for d in raw}
    return sorted((i for i in found.values() if i is not None), key=lambda i: i.instance_id)


def _query(sim: Simulator, call: Call) -> tuple[str, int, float, float, int]:
    params = call.params
    namespace = params.required("Namespace")
    if namespace != NAMESPACE:
        raise invalid("Namespace", f"cloudsim answers {NAMESPACE} only.")
    metric = params.required("MetricName")
    if metric not in METRICS:
        raise invalid("MetricName", f"Supported metrics: {', '.join(METRICS)}.")
    period = params.integer("Period", default=60)
    if period not in PERIODS:
        raise invalid("Period", "Valid values: 60, 300, 900, 3600.")
    end_text = params.text("EndTime")
    end = parse_time(end_text, "EndTime") if end_text else call.now
    start_text = params.text("StartTime")
    start = parse_time(start_text, "StartTime") if start_text else end - DEFAULT_WINDOW
    if start >= end:
        raise invalid("StartTime", "StartTime must be earlier than EndTime.")
    length = params.integer("Length", default=DEFAULT_LENGTH, minimum=1, maximum=MAX_LENGTH)
    assert period is not None and length is not None
    return metric, period, start, end, length


def _running(instance: Instance, when: float) -> bool:
    return instance.status_at(when) == "Running"


def _datapoint(
    sim: Simulator, metric: str, instance: Instance, start: int, period: int, now: float
) -> dict[str, Any]:
    kind = sim.catalog.instance_types[instance.instance_type]
    average, maximum, minimum = point(metric, instance, kind, start, period, now, _running)
    return {
        "timestamp": start * 1000,
        "userId": str(ACCOUNT_ID),
        "instanceId": instance.instance_id,
        "Average": average,
        "Maximum": maximum,
        "Minimum": minimum,
    }


def _answer(period: int, points: list[dict[str, Any]], token: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Code": "200",
        "Success": True,
        "Message": "",
        "Period": str(period),
        "Datapoints": json.dumps(points, separators=(",", ":")),
    }
    if token:
        body["NextToken"] = token
    return body


@action("Cms", "DescribeMetricList", mutates=False)
def describe_metric_list(sim: Simulator, call: Call) -> dict[str, Any]:
    metric, period, start, end, length = _query(sim, call)
    hosts = _hosts(sim, call)
    first = math.ceil(start / period) * period
    last = min(end, call.now)
    moment, index = first, 0
    token = call.params.text("NextToken")
    if token:
        moment_text, _, index_text = decode_token(token).partition(":")
        if not moment_text.isdigit() or not index_text.isdigit():
            raise invalid("NextToken", "It is not a token this API returned.")
        moment, index = int(moment_text), int(index_text)
    points: list[dict[str, Any]] = []
    while moment < end and moment <= last:
        while index < len(hosts):
            host = hosts[index]
            index += 1
            if not _running(host, moment):
                continue
            points.append(_datapoint(sim, metric, host, moment, period, call.now))
            if len(points) == length:
                more = index < len(hosts) or (moment + period < end and moment + period <= last)
                following = f"{moment}:{index}" if index < len(hosts) else f"{moment + period}:0"
                return _answer(period, points, encode_token(following) if more else "")
        moment += period
        index = 0
    return _answer(period, points, "")


@action("Cms", "DescribeMetricLast", mutates=False)
def describe_metric_last(sim: Simulator, call: Call) -> dict[str, Any]:
    metric, period, start, end, length = _query(sim, call)
    latest = int(min(end, call.now) // period) * period
    points = []
    for host in _hosts(sim, call):
        moment = latest
        while moment >= start and not _running(host, moment):
            moment -= period
        if moment >= start:
            points.append(_datapoint(sim, metric, host, moment, period, call.now))
    points.sort(key=lambda p: (p["timestamp"], p["instanceId"]))
    offset = 0
    token = call.params.text("NextToken")
    if token:
        position = decode_token(token)
        if not position.isdigit():
            raise invalid("NextToken", "It is not a token this API returned.")
        offset = int(position)
    page = points[offset : offset + length]
    following = offset + length
    return _answer(period, page, encode_token(str(following)) if following < len(points) else "")
