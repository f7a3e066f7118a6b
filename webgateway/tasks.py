"""Celery tasks of the WebUI gateway."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="webgateway.prune", ignore_result=True)
def prune_sessions() -> int:
    """Deletes gateway sessions and handoff codes that expired over a day ago."""
    from webgateway.services import prune_expired

    return prune_expired()
