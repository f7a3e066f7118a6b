"""The periodic jobs, written into django-celery-beat's tables after every migrate.

The schedule lives in the database (DESIGN.md) so that an operator can pause a job from the
admin; this module is the list of what should exist and how often.
"""

from __future__ import annotations

from typing import Any

PERIODIC_JOBS: dict[str, tuple[str, int]] = {
    # name: (task, every N seconds)
    "dispatch due operations": ("operations.dispatch_due", 15),
    "dispatch due image builds": ("images.dispatch_due", 15),
    "reconcile instances": ("instances.reconcile", 60),
    "deliver due notifications": ("notifications.deliver_due", 60),
    "collect metrics": ("metrics.collect", 60),
    "evaluate idle hosts": ("autostop.evaluate_idle", 60),
    "apply schedules": ("autostop.apply_schedules", 60),
    "prune metrics": ("metrics.prune", 86400),
    "prune WebUI sessions": ("webgateway.prune", 86400),
    "check budgets": ("budgets.check", 60),
    # Quotes are refreshed at half their TTL (NESTOPS_PRICE_TTL_SECONDS, default an hour).
    "refresh prices": ("billing.refresh_prices", 900),
}


def ensure_periodic_jobs(**kwargs: Any) -> None:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    for name, (task, seconds) in PERIODIC_JOBS.items():
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=seconds, period=IntervalSchedule.SECONDS
        )
        job, created = PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": interval}
        )
        if not created and (job.task != task or job.interval_id != interval.pk):
            job.task = task
            job.interval = interval
            job.save(update_fields=["task", "interval"])
