"""The speed of a download comes from the host's own timing of its samples, and the time left
never reads zero while bytes are missing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from hostfiles.activity import FileActivity
from hostfiles.progress import _sample, record_sample
from operations.models import Operation


def _read(ctx, result: dict, at: datetime) -> dict:
    sample = _sample(result)
    assert sample is not None
    record_sample(ctx, sample, at)
    return ctx.state["progress"]


def test_the_speed_follows_the_hosts_clock_not_when_samples_are_read() -> None:
    ctx = SimpleNamespace(state={})
    read = datetime(2026, 12, 5, tzinfo=UTC)
    first = {"phase": "downloading", "bytes": 1_000_000, "total": 9_000_000, "at_ms": 10_000}
    _read(ctx, first, read)
    # The next sample was written by the host two seconds later but read 50 ms after the first.
    second = {**first, "bytes": 1_400_000, "at_ms": 12_000}
    assert _read(ctx, second, read + timedelta(milliseconds=50))["speed"] == 200_000
    # The same sample read again does not change the speed.
    assert _read(ctx, second, read + timedelta(seconds=1))["speed"] == 200_000


def test_samples_without_the_hosts_clock_are_timed_when_read() -> None:
    ctx = SimpleNamespace(state={})
    read = datetime(2026, 12, 5, tzinfo=UTC)
    _read(ctx, {"phase": "downloading", "bytes": 0, "total": 10}, read)
    later = read + timedelta(seconds=4)
    assert _read(ctx, {"phase": "downloading", "bytes": 8, "total": 10}, later)["speed"] == 2


def test_a_download_with_bytes_missing_always_has_time_left() -> None:
    def left(bytes_: int, speed: int) -> int | None:
        activity = FileActivity(
            Operation(), "x", "downloading", bytes=bytes_, total=3_000_000, speed=speed
        )
        return activity.seconds_left

    assert left(2_999_999, 8_000_000) == 1
    assert left(1_000_000, 1_000_000) == 2
    assert left(3_000_000, 1_000_000) == 0
