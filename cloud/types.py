"""Small conversions shared by the typed cloud modules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any


def money(value: Any) -> Decimal:
    """A price as Decimal; the SDK hands us floats, whose repr is the cloud's decimal text."""
    if value is None or value == "":
        return Decimal("0")
    return Decimal(str(value))


def cloud_time(value: str | None) -> datetime | None:
    """Parses the cloud's timestamps (``2026-01-01T00:00Z`` or with seconds) as UTC."""
    if not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def as_int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def as_float(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def items(container: Any, key: str) -> list[Any]:
    """``{"Instance": [...]}``-style wrappers: the list, or [] when the cloud sent nothing."""
    if not isinstance(container, dict):
        return []
    found = container.get(key)
    return found if isinstance(found, list) else []
