"""Asking many WebUIs what they are doing, within bounds.

A hung or slow WebUI must not hold up the idle job: at most ``concurrency`` requests are in
flight, each answers within ``timeout`` seconds, and whatever has not answered when ``budget``
seconds have passed is reported as not asked (the caller then does not stop that host).
Hosts are asked in the order given, so callers put the most urgent first.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from instances.models import ServiceInstance
from instances.webui import WebUIUnreachable, progress


@dataclass(frozen=True)
class WebUIAnswer:
    """``state``: ``generating``, ``queued``, ``idle``, ``unreachable`` or ``not_asked``."""

    state: str
    job_count: int = 0
    job: str = ""
    error: str = ""
    seconds: float = 0.0

    @property
    def busy(self) -> bool:
        return self.state in ("generating", "queued")

    def as_dict(self) -> dict[str, object]:
        found: dict[str, object] = {"state": self.state}
        if self.job_count:
            found["job_count"] = self.job_count
        if self.job:
            found["job"] = self.job
        if self.error:
            found["error"] = self.error
        if self.state != "not_asked":
            found["seconds"] = round(self.seconds, 3)
        return found


def ask(instance: ServiceInstance, timeout: float) -> WebUIAnswer:
    started = time.monotonic()
    try:
        answer = progress(instance, timeout=timeout)
    except WebUIUnreachable as exc:
        # The message names the URL and the failure, never the credentials.
        return WebUIAnswer("unreachable", error=str(exc)[:200], seconds=time.monotonic() - started)
    if answer.job:
        state = "generating"
    elif answer.job_count:
        state = "queued"
    else:
        state = "idle"
    return WebUIAnswer(
        state, job_count=answer.job_count, job=answer.job, seconds=time.monotonic() - started
    )


def poll(
    instances: list[ServiceInstance], *, concurrency: int, timeout: float, budget: float
) -> dict[int, WebUIAnswer]:
    """Answers by instance pk; every instance given has one (``not_asked`` past the budget)."""
    answers: dict[int, WebUIAnswer] = {}
    if not instances:
        return answers
    deadline = time.monotonic() + budget
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="webui")
    futures: dict[Future[WebUIAnswer], int] = {
        pool.submit(ask, instance, timeout): instance.pk for instance in instances
    }
    pending = set(futures)
    try:
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            done, pending = wait(pending, timeout=left, return_when=FIRST_COMPLETED)
            for future in done:
                answers[futures[future]] = future.result()
    finally:
        # Requests still running end by their own timeout; queued ones never start.
        pool.shutdown(wait=False, cancel_futures=True)
    for future in pending:
        answers[futures[future]] = WebUIAnswer("not_asked", error="time budget used up")
    return answers
