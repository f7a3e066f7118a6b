"""Which Celery queue carries an operation's passes.

What a person or a policy asked for (a start, an idle stop, a download) goes to the default
queue; the system's own follow-up work (the inventory read after a host comes up running) goes
to ``background``. Workers consume both queues in turn (``CELERY_TASK_QUEUES``), so the reads
that follow a start of hundreds of hosts never queue ahead of what someone asks for next.
"""

from __future__ import annotations

from accounts.requester import Source

DEFAULT = "celery"
BACKGROUND = "background"


def queue_for(source: str) -> str:
    return BACKGROUND if source == Source.SYSTEM else DEFAULT


def enqueue(operation_id: int, source: str, *, countdown: float | None = None) -> None:
    from operations.tasks import advance

    options = {"queue": queue_for(source)}
    if countdown is not None:
        options["countdown"] = max(countdown, 0)
    advance.apply_async((operation_id,), **options)
