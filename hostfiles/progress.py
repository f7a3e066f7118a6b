"""How far a download is: read from the host while its script runs, shown on the Models tab
and in the API.

``download_model.sh`` rewrites a small progress file next to its partial file every second.
While the download's OOS execution runs, the handler starts ``download_progress.sh`` (a few
lines that read that file and the free space) at every poll and keeps the last sample, with the
speed since the one before, in the operation's state; the time left follows from them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cloud import CloudError, oos
from hostfiles.models import HostDisk
from operations import scripts
from operations.handlers.base import StepContext

PHASES = ("starting", "downloading", "verifying")
# A progress run the cloud does not list after this long is forgotten and started again.
PROGRESS_RUN_GRACE_SECONDS = 60


def _sample(result: dict[str, Any]) -> dict[str, Any] | None:
    phase = result.get("phase")
    numbers = [result.get(k) for k in ("bytes", "total")]
    if phase not in PHASES or not all(isinstance(n, int) and n >= 0 for n in numbers):
        return None
    sample = {"phase": phase, "bytes": numbers[0], "total": numbers[1]}
    at_ms = result.get("at_ms")
    if isinstance(at_ms, int) and at_ms > 0:
        sample["at_ms"] = at_ms
    return sample


def _seconds_between(previous: dict[str, Any], sample: dict[str, Any]) -> float:
    """By the host's clock when both samples carry it (the control plane reads a sample some
    time after the host wrote it, and not at a steady pace), else by when they were read."""
    if previous.get("at_ms") and sample.get("at_ms"):
        return (sample["at_ms"] - previous["at_ms"]) / 1000
    return (
        datetime.fromisoformat(sample["at"]) - datetime.fromisoformat(previous["at"])
    ).total_seconds()


def record_sample(ctx: StepContext, sample: dict[str, Any], now: datetime) -> None:
    """Keeps the sample with the speed since the previous one (bytes per second)."""
    previous = ctx.state.get("progress") or {}
    sample["at"] = now.isoformat()
    speed = previous.get("speed")
    if previous.get("at") and sample["phase"] == "downloading":
        seconds = _seconds_between(previous, sample)
        grown = sample["bytes"] - int(previous.get("bytes") or 0)
        if seconds > 0 and grown >= 0:
            current = grown / seconds
            # Smoothed, so one slow second does not swing the time left.
            speed = current if speed is None else 0.5 * speed + 0.5 * current
    sample["speed"] = round(speed) if speed is not None else None
    ctx.state["progress"] = sample


def record_free_space(instance_id: int, free: Any, total: Any = None) -> None:
    if not isinstance(free, int) or free < 0:
        return
    HostDisk.objects.update_or_create(
        instance_id=instance_id,
        defaults={
            "free_bytes": free,
            "total_bytes": total if isinstance(total, int) and total >= 0 else None,
            "read_at": datetime.now(UTC),
        },
    )


def read_progress(ctx: StepContext, path: str) -> None:
    """Collects the last progress run's answer and starts the next; never fails the download
    (a progress reading the cloud refuses is skipped)."""
    instance = ctx.instance
    running = ctx.state.get("progress_run")
    try:
        if running:
            execution = oos.get_execution(instance.region, running["id"])
            if execution is None:
                if ctx.elapsed_in_step() - running["since"] < PROGRESS_RUN_GRACE_SECONDS:
                    return
            elif not execution.finished:
                return
            else:
                _output, result = scripts.split_result(
                    "\n".join(o.output for o in execution.outputs)
                )
                sample = _sample(result or {})
                if sample is not None:
                    record_sample(ctx, sample, datetime.now(UTC))
                    record_free_space(instance.pk, (result or {}).get("free"))
            ctx.state.pop("progress_run")
        count = ctx.state.get("progress_runs", 0) + 1
        execution = oos.start_run_command(
            instance.region,
            [instance.cloud_instance_id],
            scripts.render("download_progress", {"PATH": path}),
            client_token=ctx.client_token(f"progress-{count}"),
            timeout_seconds=60,
            tags={"nestops:operation": ctx.operation.public_id},
        )
    except CloudError:
        return
    ctx.state["progress_runs"] = count
    ctx.state["progress_run"] = {"id": execution.execution_id, "since": ctx.elapsed_in_step()}
