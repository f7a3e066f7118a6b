"""Fixtures of the metrics, idle and schedule scenarios (see ``idle_driving``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine

from nestops.models import NotificationChannel
from tests.operations.idle_driving import Clocks


@pytest.fixture
def clocks(sim) -> Iterator[Clocks]:
    sim.set_speed(1)
    traveller = time_machine.travel(
        datetime.fromtimestamp(sim.clock()["epoch_ms"] / 1000, tz=UTC), tick=True
    )
    shifted = traveller.start()
    try:
        yield Clocks(sim, shifted)
    finally:
        traveller.stop()
        sim.set_speed(20)


@pytest.fixture
def fast_operations(settings) -> None:
    settings.NESTOPS_POLL_SECONDS = 0.05
    settings.NESTOPS_RETRY_BASE_SECONDS = 0.01
    settings.NESTOPS_RETRY_MAX_SECONDS = 0.05
    settings.NESTOPS_WEBUI_READY_TIMEOUT_SECONDS = 30


@pytest.fixture
def mailbox(team, settings) -> NotificationChannel:
    """An email channel of team Alpha that wants every event (deliveries are counted)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return NotificationChannel.objects.create(team=team, name="ops", kind="email", target="o@x.io")
