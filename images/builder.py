"""The image build runner: claims an ``ImageBuild`` with a lease, runs its steps, records them.

The same rules as ``operations.runner`` (which runs operations on service instances): the claim
is one conditional UPDATE, so a duplicate delivery finds the lease taken; progress is saved
after every step; ``Throttled``/``Transient`` cloud errors are retried with backoff; any other
failure runs the cleanup steps (``build_steps.CLEANUP``) before the build is marked failed.
"""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from cloud import CloudError
from images.build_steps import CLEANUP, STEPS, BuildContext, Next, StepFailed, Wait
from images.models import ACTIVE_BUILD_STATUSES, BuildStatus, ImageBuild
from nestops.backoff import backoff_seconds

logger = logging.getLogger("nestops.images")


class LeaseLost(Exception):
    """Another worker owns the build now; stop without writing."""


def claim(build_id: int) -> ImageBuild | None:
    now = timezone.now()
    claimed = (
        ImageBuild.objects.filter(pk=build_id, status__in=ACTIVE_BUILD_STATUSES)
        .filter(next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(
            lease_until=now + timedelta(seconds=settings.NESTOPS_LEASE_SECONDS),
            status=BuildStatus.RUNNING,
            started_at=Coalesce(F("started_at"), now),
            attempts=F("attempts") + 1,
        )
    )
    return ImageBuild.objects.get(pk=build_id) if claimed else None


def advance(build_id: int) -> None:
    build = claim(build_id)
    if build is None:
        return
    try:
        _run(BuildContext(build=build, lease=build.lease_until))
    except LeaseLost:
        logger.warning("lost the lease of %s; another worker continues it", build.public_id)


def _run(ctx: BuildContext) -> None:
    state = ctx.state
    state.setdefault("phase", "main")
    state.setdefault("index", 0)
    while True:
        steps = STEPS if state["phase"] == "main" else CLEANUP
        if state["phase"] == "main" and _past_deadline(ctx):
            _fail(ctx, "DeadlineExceeded", "The build did not finish within its deadline.")
            continue
        if state["index"] >= len(steps):
            _complete(ctx)
            return
        step = steps[state["index"]]
        ctx.step_name = step.name
        _mark(ctx, "running")
        try:
            outcome = step.run(ctx)
        except CloudError as exc:
            ctx.request_ids.append(exc.request_id or "")
            if exc.retryable:
                _retry_later(ctx, exc)
                return
            _step_failed(ctx, exc.code, exc.message)
        except StepFailed as exc:
            _step_failed(ctx, exc.code, exc.message)
        except LeaseLost:
            raise
        except Exception as exc:
            logger.exception("image build %s step %s crashed", ctx.build.public_id, step.name)
            ctx.log("internal error:\n" + traceback.format_exc()[-3000:])
            _step_failed(ctx, "InternalError", f"{type(exc).__name__}: {exc}")
        else:
            if isinstance(outcome, Wait):
                _mark(ctx, "waiting", note=outcome.note)
                _schedule(ctx, outcome.seconds)
                return
            assert isinstance(outcome, Next)
            _mark(ctx, "succeeded")
            state["index"] += 1
            state.pop("retries", None)
        _save(ctx)


def _past_deadline(ctx: BuildContext) -> bool:
    deadline = ctx.build.deadline_at
    return deadline is not None and timezone.now() > deadline


def _step_failed(ctx: BuildContext, code: str, message: str) -> None:
    _mark(ctx, "failed", note=f"{code}: {message}")
    if ctx.state["phase"] == "cleanup":
        # Best effort: note it and go on with the rest of the cleanup.
        ctx.log(f"cleanup step failed: {code}: {message}")
        ctx.state.setdefault("cleanup_errors", []).append(f"{code}: {message}")
        ctx.state["index"] += 1
        return
    _fail(ctx, code, message)


def _fail(ctx: BuildContext, code: str, message: str) -> None:
    build = ctx.build
    build.error_code = code[:100]
    build.error_message = message
    ctx.log(f"{code}: {message}")
    ctx.log("cleaning up what this build made")
    ctx.state.update(phase="cleanup", index=0)
    ctx.state.pop("retries", None)


def _complete(ctx: BuildContext) -> None:
    build = ctx.build
    build.status = BuildStatus.SUCCEEDED if ctx.state["phase"] == "main" else BuildStatus.FAILED
    build.finished_at = timezone.now()
    _save(ctx, release=True)
    logger.info("image build %s %s", build.public_id, build.status)


def _retry_later(ctx: BuildContext, exc: CloudError) -> None:
    retries = ctx.state.setdefault("retries", {})
    count = retries[ctx.step_name] = retries.get(ctx.step_name, 0) + 1
    delay = backoff_seconds(
        count,
        base=settings.NESTOPS_RETRY_BASE_SECONDS,
        maximum=settings.NESTOPS_RETRY_MAX_SECONDS,
        at_least=(exc.retry_after_ms or 0) / 1000,
    )
    ctx.log(f"{exc.code}: {exc.message} (retry {count} in {delay:.1f}s)")
    _mark(ctx, "retrying", note=exc.code)
    _schedule(ctx, delay)


def _schedule(ctx: BuildContext, seconds: float) -> None:
    from django.db import transaction

    from images.tasks import advance_build

    ctx.build.next_attempt_at = timezone.now() + timedelta(seconds=seconds)
    _save(ctx, release=True)
    build_id = ctx.build.pk
    transaction.on_commit(lambda: advance_build.apply_async((build_id,), countdown=max(seconds, 0)))


def _mark(ctx: BuildContext, status: str, *, note: str = "") -> None:
    now = timezone.now().isoformat()
    phase = ctx.state["phase"]
    entry: dict[str, Any] | None = next(
        (s for s in ctx.build.steps if s["name"] == ctx.step_name and s["phase"] == phase), None
    )
    if entry is None:
        entry = {"name": ctx.step_name, "phase": phase, "started_at": now, "request_ids": []}
        ctx.build.steps.append(entry)
    entry.update(status=status, note=note, finished_at=now if status != "running" else None)
    for request_id in ctx.request_ids:
        if request_id and request_id not in entry["request_ids"]:
            entry["request_ids"].append(request_id)
    ctx.request_ids.clear()


def _save(ctx: BuildContext, *, release: bool = False) -> None:
    build = ctx.build
    fields: dict[str, Any] = {
        "state": build.state,
        "steps": build.steps,
        "log": build.log,
        "status": build.status,
        "error_code": build.error_code,
        "error_message": build.error_message,
        "finished_at": build.finished_at,
        "next_attempt_at": build.next_attempt_at,
    }
    if release:
        fields["lease_until"] = None
    if not ImageBuild.objects.filter(pk=build.pk, lease_until=ctx.lease).update(**fields):
        raise LeaseLost(build.public_id)
    if release:
        ctx.lease = None


def dispatch_due(limit: int = 100) -> int:
    """Re-enqueues builds that are due and unclaimed (lost messages, killed workers)."""
    from images.tasks import advance_build

    now = timezone.now()
    due = list(
        ImageBuild.objects.filter(status__in=ACTIVE_BUILD_STATUSES, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .values_list("pk", flat=True)[:limit]
    )
    for build_id in due:
        advance_build.delay(build_id)
    return len(due)
