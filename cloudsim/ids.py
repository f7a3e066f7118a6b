"""Resource ids and request ids shaped like the real cloud's.

ECS and VPC ids carry a region prefix (``i-bp1...`` in Hangzhou); request ids are upper-case
UUIDs. Ids come from their own random source so that seeding the fault RNG never makes two
runs create colliding ids.
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Container

_ALPHABET = string.ascii_lowercase + string.digits
_HEX = "0123456789abcdef"
_random = random.Random()


def _chars(count: int, alphabet: str = _ALPHABET) -> str:
    return "".join(_random.choices(alphabet, k=count))


def request_id() -> str:
    return str(uuid.uuid4()).upper()


def resource_id(kind: str, region_prefix: str, taken: Container[str], length: int = 17) -> str:
    """``kind-<region prefix><random>``, e.g. ``i-bp1a2b3c...``; never one in ``taken``."""
    while True:
        candidate = f"{kind}-{region_prefix}{_chars(length)}"
        if candidate not in taken:
            return candidate


def execution_id(taken: Container[str]) -> str:
    while True:
        candidate = f"exec-{_chars(20, _HEX)}"
        if candidate not in taken:
            return candidate


def hex_id(prefix: str, count: int = 20) -> str:
    return f"{prefix}{_chars(count, _HEX)}"


def mac_address() -> str:
    return "00:16:3e:" + ":".join(_chars(2, _HEX) for _ in range(3))


def serial_number() -> str:
    return str(uuid.uuid4())


def order_id() -> str:
    return str(_random.randrange(10**14, 10**15))


def public_ip(taken: Container[str]) -> str:
    """A 47.x.x.x address like the ones Alibaba Cloud hands out."""
    while True:
        candidate = (
            f"47.{_random.randrange(74, 123)}.{_random.randrange(0, 256)}."
            f"{_random.randrange(1, 255)}"
        )
        if candidate not in taken:
            return candidate
