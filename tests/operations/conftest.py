"""Fixtures of the metrics, idle and schedule scenarios (see ``idle_driving``)."""

from __future__ import annotations

import pytest

from nestops.models import NotificationChannel


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
