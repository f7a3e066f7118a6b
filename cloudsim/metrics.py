"""CloudMonitor values: deterministic functions of (host, minute, what the host was doing).

Nothing is stored per minute. A value is computed from a hash of the host id, the minute and
the metric (the "noise", stable across calls and restarts) and from the host's activity
windows: WebUI generations and ``/_sim/load`` requests. An idle host shows 0-3 % GPU; a
generating host 80-99 %; a loaded host the level it was given (with a little jitter).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from cloudsim.catalog import InstanceType
from cloudsim.state import WEBUI_ACTIVITY, Instance

METRICS = (
    "CPUUtilization",
    "memory_usedutilization",
    "InternetOutRate",
    "gpu_gpu_usedutilization",
    "gpu_memory_usedutilization",
    "gpu_memory_usedspace",
    "gpu_gpu_temperature",
)


def noise(instance_id: str, minute: int, salt: str) -> float:
    """A stable pseudo-random number in [0, 1)."""
    return (zlib.crc32(f"{instance_id}|{salt}|{minute}".encode()) & 0xFFFFFF) / 0x1000000


def gpu_level(instance: Instance, minute: int) -> float | None:
    """The GPU utilisation the host's activity asks for during [minute, minute + 60), or None
    when it was idle."""
    level: float | None = None
    for start, end, wanted in instance.activity:
        if start < minute + 60 and end > minute:
            if wanted == WEBUI_ACTIVITY:
                wanted = 80.0 + 19.0 * noise(instance.instance_id, minute, "webui")
            level = wanted if level is None else max(level, wanted)
    return level


def _clamp(value: float, low: float = 0.0, high: float = 100.0) -> float:
    return min(high, max(low, value))


Sample = tuple[float, float, float]  # average, maximum, minimum of one minute


def _percent(average: float, spread: float) -> Sample:
    average = _clamp(average)
    return average, _clamp(average + spread), _clamp(average - spread)


def minute_sample(metric: str, instance: Instance, kind: InstanceType, minute: int) -> Sample:
    iid = instance.instance_id
    u = noise(iid, minute, metric)
    level = gpu_level(instance, minute)
    if level is None:
        gpu = 3.0 * noise(iid, minute, "gpu")
        busy = 0.0
    else:
        gpu = _clamp(level + 3.0 * (noise(iid, minute, "gpu") - 0.5))
        busy = gpu / 100.0
    if metric == "gpu_gpu_usedutilization":
        return _percent(gpu, (1.0 + 2.0 * u) if level is not None else 0.5 * u)
    if metric == "gpu_memory_usedutilization":
        return _percent(8.0 + 4.0 * u + busy * (55.0 + 20.0 * u), 0.5 + u)
    if metric == "gpu_memory_usedspace":
        share = (8.0 + 4.0 * u + busy * (55.0 + 20.0 * u)) / 100.0
        used = share * kind.gpu_memory_gib * 1024**3
        return used, used * 1.01, used * 0.99
    if metric == "gpu_gpu_temperature":
        celsius = 33.0 + 5.0 * u + busy * 30.0
        return celsius, celsius + 1.0, celsius - 1.0
    if metric == "CPUUtilization":
        return _percent(1.5 + 3.0 * u + busy * (12.0 + 20.0 * u), 1.0 + 3.0 * u)
    if metric == "memory_usedutilization":
        return _percent(22.0 + 4.0 * u + busy * (20.0 + 10.0 * u), 0.5 + u)
    if metric == "InternetOutRate":
        if not instance.public_ip:
            return 0.0, 0.0, 0.0
        bits = 2_000.0 + 8_000.0 * u + busy * (150_000.0 + 600_000.0 * u)
        bits = min(bits, instance.bandwidth_out * 1_000_000.0)
        return bits, bits * 1.3, bits * 0.6
    raise KeyError(metric)


def point(
    metric: str,
    instance: Instance,
    kind: InstanceType,
    start: int,
    period: int,
    now: float,
    is_running: Callable[[Instance, float], bool],
) -> Sample:
    """Aggregates the minutes of [start, start + period) the host was Running, up to now."""
    samples = [
        minute_sample(metric, instance, kind, minute)
        for minute in range(start, start + period, 60)
        if minute <= now and is_running(instance, minute)
    ] or [minute_sample(metric, instance, kind, start)]
    average = sum(s[0] for s in samples) / len(samples)
    return (
        round(average, 2),
        round(max(s[1] for s in samples), 2),
        round(min(s[2] for s in samples), 2),
    )
