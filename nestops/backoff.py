"""How long to wait before trying again: exponential backoff with jitter, for every retry in
nestops (a cloud call in an operation step, a notification that could not be sent).

Jitter matters more than the exponent: when a region throttles or a webhook receiver goes down,
many operations or deliveries fail at the same moment, and without it they would all come back
at the same moment too.
"""

from __future__ import annotations

import random

# 2 ** 60 times any base is far beyond any maximum: the exponent stops growing there.
_MAX_DOUBLINGS = 60


def backoff_seconds(attempt: int, *, base: float, maximum: float, at_least: float = 0.0) -> float:
    """Seconds before retry number ``attempt`` (1 for the first): ``base`` doubled each time up
    to ``maximum``, then a uniform draw in the upper half of that ("equal jitter"); never less
    than ``at_least`` (what the server asked for with Retry-After)."""
    ceiling = min(maximum, base * 2 ** min(max(attempt, 1) - 1, _MAX_DOUBLINGS))
    return max(random.uniform(ceiling / 2, ceiling), at_least)
