"""API throttles: per token, per user across tokens, anonymous requests per address."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.conftest import token_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/instances/"


@pytest.fixture
def rates(settings):
    def set_rates(**rates: str) -> None:
        settings.NESTOPS_API_THROTTLE_RATES = {
            "anon": "1000/min",
            "user": "1000/min",
            "token": "1000/min",
            **rates,
        }

    return set_rates


def test_a_token_past_its_rate_gets_429_with_retry_after(alice, rates) -> None:
    rates(token="3/min")
    client = token_client(alice)
    answers = [client.get(URL).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    throttled = client.get(URL)
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert throttled.json()["code"] == "throttled"
    # Another token of the same user has its own count.
    assert token_client(alice).get(URL).status_code == 200


def test_a_user_is_throttled_across_all_their_tokens(alice, bob, rates) -> None:
    rates(user="4/min")
    clients = [token_client(alice) for _ in range(4)]
    assert [c.get(URL).status_code for c in clients] == [200] * 4

    assert token_client(alice).get(URL).status_code == 429
    session = APIClient()
    session.force_authenticate(alice)
    assert session.get(URL).status_code == 429
    assert token_client(bob).get(URL).status_code == 200


def test_anonymous_requests_are_throttled_per_address(rates) -> None:
    """Where anonymous requests are served at all (the API's docs and schema)."""
    rates(anon="2/min")
    docs = "/api/v1/docs/"
    first = APIClient(REMOTE_ADDR="203.0.113.5")
    assert [first.get(docs).status_code for _ in range(2)] == [200, 200]

    third = first.get(docs)
    assert third.status_code == 429 and "Retry-After" in third
    # A forged X-Forwarded-For does not make a new address.
    assert first.get(docs, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    assert APIClient(REMOTE_ADDR="203.0.113.6").get(docs).status_code == 200
