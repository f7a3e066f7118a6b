"""Shared by the billing tests: cloudsim's list prices written out by hand, and a clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import time_machine

# cloudsim/data/prices.json, copied by hand so the tests check the code against independent
# arithmetic rather than against itself. CNY per hour (pay-as-you-go) and per month.
HOURLY = {
    "ecs.gn6i-c4g1.xlarge": Decimal("8.40"),
    "ecs.gn6i-c8g1.2xlarge": Decimal("10.50"),
    "ecs.gn7i-c8g1.2xlarge": Decimal("17.50"),
}
MONTHLY = {
    "ecs.gn6i-c4g1.xlarge": Decimal("3330"),
    "ecs.gn7i-c8g1.2xlarge": Decimal("6930"),
}
ESSD_GB_HOUR = Decimal("0.0015")
ESSD_GB_MONTH = Decimal("1.0")
BANDWIDTH_MBPS_HOUR = Decimal("0.125")
BANDWIDTH_MBPS_MONTH = Decimal("23")
# The defaults of a deploy: 200 GB cloud_essd, 10 Mbit/s PayByBandwidth.
DISK_HOUR = ESSD_GB_HOUR * 200  # 0.30
BANDWIDTH_HOUR = BANDWIDTH_MBPS_HOUR * 10  # 1.25
STOPPED_HOUR = DISK_HOUR + BANDWIDTH_HOUR  # 1.55 (bandwidth billed while stopped: the default)


def running_hour(instance_type: str) -> Decimal:
    return HOURLY[instance_type] + DISK_HOUR + BANDWIDTH_HOUR


def cost(rate: Decimal, seconds: int) -> Decimal:
    return rate * seconds / 3600


def to_cent(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@contextmanager
def clock(start: datetime) -> Iterator[time_machine.Coordinates]:
    """Django's clock stopped at ``start`` (UTC); move it with ``.shift(seconds)``."""
    with time_machine.travel(start.replace(tzinfo=UTC), tick=False) as traveller:
        yield traveller
