"""Times as the API and the jobs write them."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_time(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as the API returns every timestamp."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
