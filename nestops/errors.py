"""The refusal every service raises when it will not do what it was asked."""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    """A request a service will not carry out; ``code`` and ``details`` reach the API as they
    are, with ``http_status`` (409 unless a subclass says otherwise)."""

    http_status = 409

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
