"""The one backoff-with-jitter rule every retry in nestops uses."""

from __future__ import annotations

import random

import pytest

from nestops.backoff import backoff_seconds


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(1, 2.0), (2, 4.0), (3, 8.0), (6, 64.0), (7, 100.0), (500, 100.0)]
)
def test_it_doubles_up_to_the_maximum_and_draws_in_the_upper_half(attempt, ceiling) -> None:
    for seed in range(50):
        random.seed(seed)
        delay = backoff_seconds(attempt, base=2.0, maximum=100.0)
        assert ceiling / 2 <= delay <= ceiling


def test_it_spreads_retries_that_failed_together() -> None:
    random.seed(1)
    delays = {round(backoff_seconds(4, base=2.0, maximum=100.0), 3) for _ in range(20)}
    assert len(delays) > 10


def test_a_servers_retry_after_is_a_floor() -> None:
    assert backoff_seconds(1, base=2.0, maximum=100.0, at_least=30.0) == 30.0
    assert 1.0 <= backoff_seconds(1, base=2.0, maximum=100.0, at_least=0.5) <= 2.0


def test_a_first_attempt_counted_from_zero_waits_like_the_first() -> None:
    assert 1.0 <= backoff_seconds(0, base=2.0, maximum=100.0) <= 2.0
