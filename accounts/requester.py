"""Who asks for something, from where: what every ``request_*`` service takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    DASHBOARD = "dashboard", _("Dashboard")
    API = "api", _("API")
    ADMIN = "admin", _("Admin")
    IDLE_POLICY = "idle_policy", _("Idle policy")
    SCHEDULE = "schedule", _("Schedule")
    BUDGET = "budget", _("Budget")
    SYSTEM = "system", _("System")


@dataclass(frozen=True)
class Requester:
    """A person (``actor``) or a policy (no actor) asking through ``source``.

    ``address`` is the client's address as the server saw it (never a forwarded header: that
    is whatever the client chose to send); ``idempotency_key`` makes a retried request return
    the first answer.
    """

    source: str
    actor: Any = None
    address: str | None = None
    idempotency_key: str = ""
    user_agent: str = ""

    @property
    def user(self) -> Any:
        """The actor when it is a signed-in user, else None (what a foreign key stores)."""
        return self.actor if getattr(self.actor, "is_authenticated", False) else None

    @classmethod
    def of(cls, request: Any, *, source: str, idempotency_key: str = "") -> Requester:
        """The person behind an HTTP request (a Django or DRF request)."""
        meta = request.META
        return cls(
            source=source,
            actor=request.user,
            address=meta.get("REMOTE_ADDR") or None,
            idempotency_key=idempotency_key,
            user_agent=meta.get("HTTP_USER_AGENT", "")[:200],
        )

    @classmethod
    def policy(cls, source: str) -> Requester:
        """A policy acting on its own (idle, schedule, budget, system)."""
        return cls(source=source)
