"""What a handler is: named steps, each a function of a ``StepContext`` returning an outcome.

A step must be safe to run again after a crash: it reads what it already did from
``ctx.state`` (or from the instance row) and every cloud create carries ``ctx.client_token()``,
so the cloud answers a repeat with the resource it already made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise

from instances import lifecycle
from instances.models import ServiceInstance
from operations.models import Operation

LOG_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Next:
    """The step is done (or had nothing to do: ``skipped``); go on to the next one."""

    skipped: bool = False


@dataclass(frozen=True)
class Wait:
    """Run this step again after ``seconds`` (the cloud has not reached the state yet)."""

    seconds: float
    note: str = ""


class StepFailed(Exception):
    """A step cannot succeed; the operation fails with this code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


Outcome = Next | Wait


@dataclass
class StepContext:
    """What a step sees: the operation, its instance, its progress, and a way to log."""

    operation: Operation
    instance: ServiceInstance
    step_name: str = ""
    request_ids: list[str] = field(default_factory=list)

    @property
    def state(self) -> dict[str, Any]:
        return self.operation.state

    @property
    def params(self) -> dict[str, Any]:
        return self.operation.params

    def client_token(self, purpose: str) -> str:
        """A ClientToken per operation and step: a retried create returns the same resource."""
        return f"{self.operation.public_id}-{purpose}"[:64]

    def log(self, message: str) -> None:
        line = f"{timezone.now():%Y-%m-%d %H:%M:%S} [{self.step_name}] {message}\n"
        text = self.operation.log + line
        if len(text) > LOG_LIMIT:
            text = "[earlier log lines dropped]\n" + text[-(LOG_LIMIT - 40) :]
        self.operation.log = text

    def request_id(self, request_id: str | None) -> None:
        if request_id:
            self.request_ids.append(request_id)

    def settle(
        self,
        status: str,
        *,
        reason: str = "",
        stopped_mode: str = "",
        extra_fields: tuple[str, ...] = (),
    ) -> bool:
        """Sets the instance's status as this operation ends. When another operation took the
        instance over meanwhile (a delete accepted during a restart), the status is theirs:
        only ``extra_fields`` are saved, and False is returned."""
        from operations.services import action_for

        if self.instance.status != action_for(self.operation.kind).during:
            self.log(f"the instance is {self.instance.status} now; its status stays as it is")
            if extra_fields:
                self.instance.save(update_fields=[*extra_fields, "updated_at"])
            return False
        lifecycle.change_status(
            self.instance,
            status,
            reason=reason,
            stopped_mode=stopped_mode,
            extra_fields=extra_fields,
        )
        return True

    def elapsed_in_step(self) -> float:
        """Seconds since this step first ran (kept across retries)."""
        started = self.state.setdefault("step_started", {}).setdefault(
            self.step_name, timezone.now().timestamp()
        )
        return timezone.now().timestamp() - started


StepFunction = Callable[[StepContext], Outcome]


@dataclass(frozen=True)
class Step:
    name: str
    title: str | Promise
    run: StepFunction


@dataclass(frozen=True)
class Handler:
    """The steps of one kind of operation and what its success or failure does."""

    steps: tuple[Step, ...]
    # Steps run after a failure or a cancel to undo what was done (a deploy's cleanup).
    rollback: tuple[Step, ...] = ()
    rollback_enabled: Callable[[StepContext], bool] = lambda ctx: True
    on_success: Callable[[StepContext], None] | None = None
    on_failure: Callable[[StepContext, str], None] | None = None

    def step(self, phase: str, index: int) -> Step | None:
        steps = self.steps if phase == "main" else self.rollback
        return steps[index] if index < len(steps) else None

    def title(self, name: str) -> str:
        for step in (*self.steps, *self.rollback):
            if step.name == name:
                return str(step.title)
        return name
