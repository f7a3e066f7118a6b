"""The simulated clock: wall start + real elapsed x speed + manual advances.

Nothing ticks in the background. State machines store the sim times at which their phases
begin and read the clock when asked, so advancing the clock moves every host at once.
"""

from __future__ import annotations

import threading
import time


class SimClock:
    """Sim time in epoch seconds (float), monotonic, never going backwards."""

    def __init__(self, speed: float = 1.0, start: float | None = None) -> None:
        self._lock = threading.Lock()
        # One tuple so that a reader never sees half of a re-anchoring.
        self._anchor = (time.time() if start is None else start, time.monotonic(), speed)

    def now(self) -> float:
        sim, real, speed = self._anchor
        return sim + (time.monotonic() - real) * speed

    @property
    def speed(self) -> float:
        return self._anchor[2]

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            sim, real, speed = self._anchor
            now_real = time.monotonic()
            self._anchor = (sim + (now_real - real) * speed + seconds, now_real, speed)

    def set_speed(self, speed: float) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        with self._lock:
            sim, real, old_speed = self._anchor
            now_real = time.monotonic()
            self._anchor = (sim + (now_real - real) * old_speed, now_real, speed)

    def resume_from(self, saved_now: float) -> None:
        """After a restart: continue from the saved sim time if it is ahead of the wall."""
        with self._lock:
            sim, real, speed = self._anchor
            current = sim + (time.monotonic() - real) * speed
            if saved_now > current:
                self._anchor = (saved_now, time.monotonic(), speed)

    def to_dict(self) -> dict[str, object]:
        now = self.now()
        return {"now": iso_seconds(now), "epoch_ms": int(now * 1000), "speed": self.speed}


def iso_minutes(epoch: float) -> str:
    """ECS instance times: minute precision, ``2026-01-01T00:00Z``."""
    return time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(epoch))


def iso_seconds(epoch: float) -> str:
    """VPC, security group and OOS times: ``2026-01-01T00:00:00Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
