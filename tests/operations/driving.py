"""Drives operations through the runner in the test process, against cloudsim."""

from __future__ import annotations

import time

from django.utils import timezone

from operations import runner
from operations.models import TERMINAL_STATUSES, Operation


def drive(operation: Operation, sim, *, limit: int = 600, sim_seconds: float = 3.0) -> Operation:
    """Advances an operation until it ends: each round makes it due, runs it, and moves the
    cloud's clock (OOS scripts run in real time, so rounds also sleep a little)."""
    for _ in range(limit):
        operation.refresh_from_db()
        if operation.status in TERMINAL_STATUSES:
            return operation
        Operation.objects.filter(pk=operation.pk).update(
            next_attempt_at=timezone.now(), lease_until=None
        )
        runner.advance(operation.pk)
        sim.advance(sim_seconds)
        time.sleep(0.02)
    operation.refresh_from_db()
    raise AssertionError(
        f"{operation.public_id} ({operation.kind}) did not finish: {operation.status}\n"
        f"{operation.log}"
    )
