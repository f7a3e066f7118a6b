"""A synchronous generation of ten minutes passes through the gateway process and through the
shipped nginx configuration, and is activity for the idle policy all along. The requests
started with the test session (tests/webgateway/long_request.py); this test, run last, checks
them."""

from __future__ import annotations

import json

import pytest

from tests.webgateway import nginx
from tests.webgateway.long_request import IMAGE, SECONDS

pytestmark = pytest.mark.long_request


def test_a_ten_minute_generation_passes_and_is_use_all_along(long_requests) -> None:
    outcome = long_requests.outcome()
    ways = ["gateway", "nginx"] if nginx.available() else ["gateway"]
    for way in ways:
        status, body = outcome[way]["answer"]
        assert status == 200, (way, body)
        assert json.loads(body)["images"] == [IMAGE]
        assert outcome[way]["seconds"] >= SECONDS
    # The gateway reported the generation while it waited (every 30 s), so the last use is
    # near its end, not its start (both times from the stack's own clock); each request
    # counted once.
    assert outcome["used_for"] >= SECONDS - 60
    assert outcome["request_count"] == len(ways)
