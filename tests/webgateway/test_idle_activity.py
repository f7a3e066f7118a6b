"""The idle policy sees WebUI use through the gateway as activity."""

from __future__ import annotations

import pytest

from autostop.models import IdleEvaluation
from tests.autostop.driving import beat_minute, idle_stops, running_host
from tests.webgateway.conftest import token_of
from webgateway.models import WebUIUse

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_runner", "mailbox"),
]


def test_a_generation_through_the_gateway_restarts_the_idle_clock(clocks, gateway, team, alice):
    instance = running_host(team, alice, clocks, "gw-idle")
    beat_minute(clocks, 20)
    token = token_of(alice)
    with gateway.client(instance, headers={"Authorization": f"Bearer {token}"}) as client:
        answer = client.post(
            "/sdapi/v1/txt2img", json={"prompt": "x", "steps": 1, "width": 64, "height": 64}
        )
    assert answer.status_code == 200
    used_at = WebUIUse.objects.get(instance=instance).last_used_at
    beat_minute(clocks)
    evaluation = IdleEvaluation.objects.get(instance=instance)
    assert evaluation.last_activity_at >= used_at
    assert evaluation.signals["gateway"]["last_used_at"]
    beat_minute(clocks, 14)  # 35 minutes after the host started, 15 after the generation
    assert idle_stops(instance) == []
    minutes = 15
    while not idle_stops(instance):
        beat_minute(clocks)
        minutes += 1
        assert minutes <= 33
    assert minutes >= 30
