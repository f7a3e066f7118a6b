"""Injected trouble: throttling, 5xx, latency, hung requests and specific cloud errors.

Rules come from ``POST /_sim/faults``. Each matching call rolls the seedable RNG once per
ratio. A hung call (``timeout_ratio``) is held ``hang_ms`` and then processed normally, like a
real request whose answer the client gave up waiting for: the create happened, only the
answer was lost, which is exactly what ClientToken idempotency exists for.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from cloudsim.errors import CloudError


class FaultSpecError(ValueError):
    """A fault rule that cannot be used; the message says which field and why."""


@dataclass
class FaultRule:
    action: str = "*"
    throttle_ratio: float = 0.0
    error_ratio: float = 0.0
    latency_ms: int = 0
    timeout_ratio: float = 0.0
    hang_ms: int = 10_000
    code: str | None = None
    http_status: int = 400
    message: str | None = None
    retry_after_ms: int = 1000
    count: int | None = None

    def matches(self, product: str, action: str) -> bool:
        return self.action in ("*", action, f"{product}.{action}")


_RATIOS = ("throttle_ratio", "error_ratio", "timeout_ratio")
_MILLIS = ("latency_ms", "hang_ms", "retry_after_ms")


def parse_rule(raw: dict[str, Any]) -> FaultRule:
    unknown = set(raw) - set(FaultRule.__dataclass_fields__) - {"seed"}
    if unknown:
        raise FaultSpecError(f"unknown fault fields: {', '.join(sorted(unknown))}")
    rule = FaultRule()
    if "action" in raw:
        if not isinstance(raw["action"], str) or not raw["action"]:
            raise FaultSpecError('"action" must be an action name such as "RunInstances" or "*"')
        rule.action = raw["action"]
    for name in _RATIOS:
        if name in raw:
            value = raw[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise FaultSpecError(f'"{name}" must be a number from 0 to 1')
            setattr(rule, name, float(value))
    for name in _MILLIS:
        if name in raw:
            value = raw[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise FaultSpecError(f'"{name}" must be a number of milliseconds >= 0')
            setattr(rule, name, int(value))
    if raw.get("code") is not None:
        if not isinstance(raw["code"], str) or not raw["code"]:
            raise FaultSpecError('"code" must be a cloud error code such as "Throttling.User"')
        rule.code = raw["code"]
    if "http_status" in raw:
        status = raw["http_status"]
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise FaultSpecError('"http_status" must be an HTTP error status from 400 to 599')
        rule.http_status = status
    if raw.get("message") is not None:
        rule.message = str(raw["message"])
    if raw.get("count") is not None:
        count = raw["count"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise FaultSpecError('"count" must be a positive integer')
        rule.count = count
    return rule


@dataclass
class _Outcome:
    delay_s: float = 0.0
    error: CloudError | None = None


class Faults:
    """The active rules and the RNG that decides which calls they hit."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._rng = random.Random()
        self._seed: int | None = None
        self._lock = threading.Lock()

    def configure(self, payload: dict[str, Any]) -> None:
        """``{"seed": n}``, a single rule, or ``{"rules": [...]}`` to replace all rules."""
        with self._lock:
            if "seed" in payload:
                seed = payload["seed"]
                if isinstance(seed, bool) or not isinstance(seed, int):
                    raise FaultSpecError('"seed" must be an integer')
                self._seed = seed
                self._rng.seed(seed)
            if "rules" in payload:
                if not isinstance(payload["rules"], list):
                    raise FaultSpecError('"rules" must be a list of rules')
                self._rules = [parse_rule(dict(raw)) for raw in payload["rules"]]
            elif set(payload) - {"seed"}:
                self._rules.append(parse_rule(payload))

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"seed": self._seed, "rules": [asdict(rule) for rule in self._rules]}

    def apply(self, product: str, action: str) -> None:
        """Sleeps and/or raises as the rules say; called before the handler runs."""
        if not self._rules:
            return
        outcome = self._decide(product, action)
        if outcome.delay_s:
            time.sleep(outcome.delay_s)
        if outcome.error is not None:
            raise outcome.error

    def _decide(self, product: str, action: str) -> _Outcome:
        outcome = _Outcome()
        with self._lock:
            for rule in list(self._rules):
                if not rule.matches(product, action):
                    continue
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
                outcome.delay_s += rule.latency_ms / 1000
                if rule.timeout_ratio and self._rng.random() < rule.timeout_ratio:
                    outcome.delay_s += rule.hang_ms / 1000
                if outcome.error is None:
                    outcome.error = self._error_for(rule)
        return outcome

    def _error_for(self, rule: FaultRule) -> CloudError | None:
        if rule.throttle_ratio and self._rng.random() < rule.throttle_ratio:
            return CloudError(
                "Throttling.User",
                rule.message or "Request was denied due to user flow control.",
                400,
                retry_after_ms=rule.retry_after_ms,
            )
        if rule.code is not None:
            if not rule.error_ratio or self._rng.random() < rule.error_ratio:
                return CloudError(
                    rule.code,
                    rule.message or f"Injected by cloudsim: {rule.code}.",
                    rule.http_status,
                    retry_after_ms=rule.retry_after_ms
                    if rule.code.startswith("Throttling")
                    else None,
                )
            return None
        if rule.error_ratio and self._rng.random() < rule.error_ratio:
            if self._rng.random() < 0.5:
                return CloudError(
                    "ServiceUnavailable",
                    rule.message
                    or "The request has failed due to a temporary failure of the server.",
                    503,
                )
            return CloudError(
                "InternalError",
                rule.message or "The request processing has failed due to some unknown error.",
                500,
            )
        return None
