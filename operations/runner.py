"""The runner: claims an operation with a lease, runs its steps, records what happened.

``advance(operation_id)`` is what the Celery task calls, any number of times: the claim is a
conditional UPDATE, so a duplicate delivery, a second worker or a ``dispatch_due`` re-enqueue
finds the lease taken and returns. Progress is saved after every step, so a killed worker
costs a lease period, never a step done twice without its ClientToken.
"""

from __future__ import annotations

import logging
import time
import traceback
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from cloud import CloudError
from instances.models import ServiceInstance
from nestops.backoff import backoff_seconds
from operations import queues
from operations.handlers import HANDLERS
from operations.handlers.base import Handler, Next, StepContext, StepFailed, Wait
from operations.models import ACTIVE_STATUSES, Operation, OperationStatus

logger = logging.getLogger("nestops.operations")

# Cleanup after a failure gets this long past the operation's deadline.
ROLLBACK_GRACE = timedelta(minutes=30)


class LeaseLost(Exception):
    """Another worker owns the operation now; stop without writing."""


def claim(operation_id: int) -> tuple[Operation, datetime] | None:
    """Takes the lease if the operation is due and nobody holds it."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.NESTOPS_LEASE_SECONDS)
    claimed = (
        Operation.objects.filter(pk=operation_id, status__in=ACTIVE_STATUSES)
        .filter(Q(next_attempt_at__lte=now) | Q(cancel_requested=True))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(
            lease_until=lease,
            status=OperationStatus.RUNNING,
            started_at=Coalesce(F("started_at"), now),
            attempts=F("attempts") + 1,
        )
    )
    if not claimed:
        return None
    operation = Operation.objects.select_related("instance", "instance__team").get(pk=operation_id)
    return operation, operation.lease_until


def advance(operation_id: int) -> None:
    claimed = claim(operation_id)
    if claimed is None:
        return
    operation, lease = claimed
    try:
        Run(operation, lease).run()
    except LeaseLost:
        logger.warning("lost the lease of %s; another worker continues it", operation.public_id)


class Run:
    """One claim's worth of work on an operation."""

    def __init__(self, operation: Operation, lease: datetime) -> None:
        self.operation = operation
        self.lease = lease
        self.handler: Handler = HANDLERS[operation.kind]
        self.ctx = StepContext(operation=operation, instance=operation.instance)
        self.state = operation.state
        self.state.setdefault("phase", "main")
        self.state.setdefault("index", 0)
        # Keep working while the lease has room; then hand over to a fresh claim.
        self.budget_ends = time.monotonic() + settings.NESTOPS_LEASE_SECONDS / 2

    # --- the loop --------------------------------------------------------------------------

    def run(self) -> None:
        while True:
            if self.operation.cancel_requested and self.state["phase"] == "main":
                self.ctx.step_name = "cancel"
                self.ctx.log("cancel requested")
                self.fail("Cancelled", "The operation was cancelled.", outcome="cancelled")
                if self.finished:
                    return
                continue
            if self.past_deadline():
                self.deadline_passed()
                if self.finished:
                    return
                continue
            step = self.handler.step(self.state["phase"], self.state["index"])
            if step is None:
                self.finish()
                return
            self.ctx.step_name = step.name
            self.ctx.request_ids = []
            self.mark(step.name, "running")
            try:
                outcome = step.run(self.ctx)
            except CloudError as exc:
                self.ctx.request_id(exc.request_id)
                if exc.retryable:
                    self.retry_later(exc)
                    return
                self.step_failed(exc.code, exc.message)
            except StepFailed as exc:
                self.step_failed(exc.code, exc.message)
            except LeaseLost:
                raise
            except Exception as exc:
                logger.exception(
                    "operation %s step %s crashed", self.operation.public_id, step.name
                )
                self.ctx.log("internal error:\n" + traceback.format_exc()[-3000:])
                self.step_failed("InternalError", f"{type(exc).__name__}: {exc}")
            else:
                if isinstance(outcome, Wait):
                    self.mark(step.name, "waiting", note=outcome.note)
                    self.schedule(outcome.seconds)
                    return
                assert isinstance(outcome, Next)
                self.mark(step.name, "skipped" if outcome.skipped else "succeeded")
                self.state["index"] += 1
                self.state.pop("retries", None)
            if self.finished:
                return
            self.save()
            if time.monotonic() > self.budget_ends:
                self.schedule(0)
                return

    @property
    def finished(self) -> bool:
        return self.operation.status not in ACTIVE_STATUSES

    def past_deadline(self) -> bool:
        deadline = self.operation.deadline_at
        if deadline is None:
            return False
        if self.state["phase"] == "rollback":
            deadline += ROLLBACK_GRACE
        return timezone.now() > deadline

    def deadline_passed(self) -> None:
        if self.state["phase"] == "main":
            self.ctx.step_name = "deadline"
            self.fail(
                "DeadlineExceeded",
                f"The operation did not finish within its deadline "
                f"({settings.NESTOPS_OPERATION_DEADLINES.get(self.operation.kind)} minutes).",
            )
        else:
            self.ctx.log("cleanup ran out of time; some resources may remain (see above)")
            self.state.setdefault("rollback_errors", []).append("DeadlineExceeded")
            self.complete(self.state.get("outcome", "failed"))

    # --- failure and cleanup ---------------------------------------------------------------

    def step_failed(self, code: str, message: str) -> None:
        if self.state["phase"] == "rollback":
            # Best effort: note it and go on with the rest of the cleanup.
            self.ctx.log(f"cleanup step failed: {code}: {message}")
            self.mark(self.ctx.step_name, "failed", note=f"{code}: {message}")
            self.state.setdefault("rollback_errors", []).append(f"{code}: {message}")
            self.state["index"] += 1
            return
        # The operation's error carries the message; the step names the code only.
        self.mark(self.ctx.step_name, "failed", note=code)
        self.fail(code, message)

    def fail(self, code: str, message: str, *, outcome: str = "failed") -> None:
        """Records the error; runs the handler's cleanup if it has one, else finishes."""
        self.operation.error_code = code[:100]
        self.operation.error_message = message
        self.ctx.log(f"{code}: {message}")
        self.state["outcome"] = outcome
        if self.handler.rollback and self.handler.rollback_enabled(self.ctx):
            self.ctx.log("cleaning up what this operation created")
            self.state["phase"] = "rollback"
            self.state["index"] = 0
            self.state.pop("retries", None)
            return
        self.complete(outcome)

    def finish(self) -> None:
        if self.state["phase"] == "main":
            self.complete("succeeded")
        else:
            self.complete(self.state.get("outcome", "failed"))

    def complete(self, outcome: str) -> None:
        """Final status for the operation and the instance, in one transaction."""
        status = {
            "succeeded": OperationStatus.SUCCEEDED,
            "failed": OperationStatus.FAILED,
            "cancelled": OperationStatus.CANCELLED,
        }[outcome]
        with transaction.atomic():
            # The instance row is locked so that a request deciding on its status waits.
            self.ctx.instance = ServiceInstance.objects.select_for_update().get(
                pk=self.operation.instance_id
            )
            self.operation.instance = self.ctx.instance
            if outcome == "succeeded":
                if self.handler.on_success:
                    self.handler.on_success(self.ctx)
            elif self.handler.on_failure:
                self.handler.on_failure(self.ctx, outcome)
            self.operation.status = status
            self.operation.finished_at = timezone.now()
            self.save(release=True)
        logger.info(
            "operation %s (%s %s) %s",
            self.operation.public_id,
            self.operation.kind,
            self.operation.instance.public_id,
            outcome,
        )

    # --- waiting and retrying --------------------------------------------------------------

    def retry_later(self, exc: CloudError) -> None:
        retries = self.state.setdefault("retries", {})
        count = retries[self.ctx.step_name] = retries.get(self.ctx.step_name, 0) + 1
        delay = backoff_seconds(
            count,
            base=settings.NESTOPS_RETRY_BASE_SECONDS,
            maximum=settings.NESTOPS_RETRY_MAX_SECONDS,
            at_least=(exc.retry_after_ms or 0) / 1000,
        )
        self.ctx.log(f"{exc.code}: {exc.message} (retry {count} in {delay:.1f}s)")
        self.mark(self.ctx.step_name, "retrying", note=exc.code)
        self.schedule(delay)

    def schedule(self, seconds: float) -> None:
        self.operation.next_attempt_at = timezone.now() + timedelta(seconds=seconds)
        self.save(release=True)
        operation_id, source = self.operation.pk, self.operation.source
        transaction.on_commit(lambda: queues.enqueue(operation_id, source, countdown=seconds))

    # --- bookkeeping -----------------------------------------------------------------------

    def mark(self, name: str, status: str, *, note: str = "") -> None:
        """Updates the step's entry in the timeline people see."""
        now = timezone.now().isoformat()
        phase = self.state["phase"]
        entry: dict[str, Any] | None = next(
            (s for s in self.operation.steps if s["name"] == name and s["phase"] == phase), None
        )
        if entry is None:
            entry = {
                "name": name,
                "phase": phase,
                "status": status,
                "started_at": now,
                "finished_at": None,
                "request_ids": [],
                "note": "",
            }
            self.operation.steps.append(entry)
        entry["status"] = status
        entry["note"] = note
        for request_id in self.ctx.request_ids:
            if request_id not in entry["request_ids"]:
                entry["request_ids"].append(request_id)
        if status in ("succeeded", "skipped", "failed"):
            entry["finished_at"] = now

    def save(self, *, release: bool = False) -> None:
        """Writes progress if the lease is still ours."""
        operation = self.operation
        fields: dict[str, Any] = {
            "state": operation.state,
            "steps": operation.steps,
            "log": operation.log,
            "status": operation.status,
            "error_code": operation.error_code,
            "error_message": operation.error_message,
            "finished_at": operation.finished_at,
            "next_attempt_at": operation.next_attempt_at,
        }
        if release:
            fields["lease_until"] = None
        updated = Operation.objects.filter(pk=operation.pk, lease_until=self.lease).update(**fields)
        if not updated:
            raise LeaseLost(operation.public_id)
        if release:
            self.lease = None


def dispatch_due(limit: int = 500) -> int:
    """Re-enqueues operations that are due and unclaimed (lost messages, killed workers)."""
    now = timezone.now()
    due = list(
        Operation.objects.filter(status__in=ACTIVE_STATUSES, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", "source")[:limit]
    )
    for operation_id, source in due:
        queues.enqueue(operation_id, source)
    return len(due)
