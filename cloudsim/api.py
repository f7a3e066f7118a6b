"""The RPC front door: action registry, signature check, faults, ClientToken memory, errors.

Products register their actions with ``@action(product, name)``. A call is dispatched on the
(version, action) pair because action names collide across products. Handlers receive a
``Call`` and return the response body without ``RequestId``; they raise ``CloudError`` for
every refusal. Anything else that escapes a handler becomes ``InternalError`` (500) with the
traceback on stderr: the SDK must never see an HTML traceback.
"""

from __future__ import annotations

import json
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from cloudsim import digests, ids, signing
from cloudsim.errors import CloudError
from cloudsim.params import Params

if TYPE_CHECKING:
    from cloudsim.simulator import Simulator

VERSIONS = {
    "2014-05-26": "Ecs",
    "2016-04-28": "Vpc",
    "2019-06-01": "Oos",
    "2019-01-01": "Cms",
    "2017-12-14": "Bss",
}
HOST_IDS = {
    "Ecs": "ecs.aliyuncs.com",
    "Vpc": "vpc.aliyuncs.com",
    "Oos": "oos.aliyuncs.com",
    "Cms": "metrics.aliyuncs.com",
    "Bss": "business.aliyuncs.com",
}


@dataclass(frozen=True)
class Call:
    """One API call as a handler sees it."""

    product: str
    action: str
    params: Params
    access_key_id: str
    request_id: str
    now: float

    @property
    def name(self) -> str:
        return f"{self.product}.{self.action}"


class EncodedBody(bytes):
    """A response body a handler has already encoded as a UTF-8 JSON object (hot paths only).

    The API layer splices ``RequestId`` into it instead of encoding the body again.
    """


Handler = Callable[["Simulator", Call], "dict[str, Any] | EncodedBody"]


@dataclass(frozen=True)
class ActionSpec:
    product: str
    action: str
    handler: Handler
    mutates: bool
    client_token: bool


_ACTIONS: dict[tuple[str, str], ActionSpec] = {}


def action(
    product: str, name: str, *, mutates: bool = True, client_token: bool = False
) -> Callable[[Handler], Handler]:
    """Registers a handler. ``client_token`` turns on ClientToken idempotency for the action."""

    def register(handler: Handler) -> Handler:
        _ACTIONS[(product, name)] = ActionSpec(product, name, handler, mutates, client_token)
        return handler

    return register


def registered_actions() -> list[str]:
    return sorted(f"{product}.{name}" for product, name in _ACTIONS)


@dataclass
class ApiResponse:
    status: int
    body: bytes
    headers: list[tuple[str, str]]


def handle(
    sim: Simulator,
    method: str,
    path: str,
    params: dict[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> ApiResponse:
    """Answers one RPC call; never raises."""
    request_id = ids.request_id()
    version = headers.get("x-acs-version") or params.get("Version", "")
    action_name = headers.get("x-acs-action") or params.get("Action", "")
    product = VERSIONS.get(version, "Ecs")
    try:
        if not action_name:
            raise CloudError(
                "MissingParameter",
                'The input parameter "Action" that is mandatory for processing this request is '
                "not supplied.",
            )
        spec = _ACTIONS.get((product, action_name)) if version in VERSIONS else None
        if spec is None:
            raise CloudError(
                "InvalidAction.NotFound",
                f"Specified api is not found, please check your url and method. "
                f"({action_name}, version {version or 'missing'})",
                404,
            )
        sim.calls.count(f"{product}.{action_name}")
        keys = {**sim.config.access_keys, **sim.ram.secrets()}
        key_id = signing.verify(method, path, params, headers, body, keys)
        sim.ram.authorize(key_id, product, action_name)
        sim.faults.apply(product, action_name)
        call = Call(product, action_name, Params(params), key_id, request_id, sim.clock.now())
        result = _run(sim, spec, call)
        if isinstance(result, EncodedBody):
            separator = b"," if len(result) > 2 else b""
            payload = b'{"RequestId":"%s"%s%s' % (request_id.encode(), separator, result[1:])
        else:
            result["RequestId"] = request_id
            payload = json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode()
        return ApiResponse(200, payload, [("Content-Type", "application/json")])
    except CloudError as error:
        return error_response(error, product, request_id)
    except Exception:
        print(f"cloudsim: InternalError in {product}.{action_name}", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        error = CloudError(
            "InternalError",
            "The request processing has failed due to some unknown error, exception or failure.",
            500,
        )
        return error_response(error, product, request_id)


def _run(sim: Simulator, spec: ActionSpec, call: Call) -> dict[str, Any] | EncodedBody:
    token = call.params.text("ClientToken") if spec.client_token else None
    if token is not None and (len(token) > 64 or not token.isascii()):
        raise CloudError(
            "InvalidClientToken.ValueNotSupported", "The ClientToken provided is invalid.", 400
        )
    with sim.state.lock:
        # Read the clock once the lock is ours: a call that waited must not act in the past.
        call = replace(call, now=sim.clock.now())
        if token is None:
            result = spec.handler(sim, call)
        else:
            key = f"{call.name}:{token}"
            business = call.params.business()
            business.pop("DryRun", None)
            fingerprint = digests.request_fingerprint(business)
            remembered = sim.state.tokens.get(key)
            if remembered is not None:
                if remembered["fingerprint"] != fingerprint:
                    raise CloudError(
                        "IdempotentParameterMismatch",
                        "Request uses a client token in a previous request but is not identical "
                        "to that request.",
                        400,
                    )
                return json.loads(json.dumps(remembered["body"]))
            result = spec.handler(sim, call)
            sim.state.tokens[key] = {
                "fingerprint": fingerprint,
                "body": json.loads(json.dumps(result)),
            }
        if spec.mutates:
            sim.state.touch()
    return result


def error_response(error: CloudError, product: str, request_id: str) -> ApiResponse:
    body: dict[str, Any] = {
        "RequestId": request_id,
        "HostId": HOST_IDS.get(product, "ecs.aliyuncs.com"),
        "Code": error.code,
        "Message": error.message,
        "Recommend": (
            f"https://api.aliyun.com/troubleshoot?q={error.code}&product={product}"
            f"&requestId={request_id}"
        ),
    }
    if product == "Cms":
        # CloudMonitor answers carry Success; the gateway checks it besides the exception.
        body["Success"] = False
    body.update(error.extra)
    headers = [("Content-Type", "application/json")]
    if error.retry_after_ms is not None:
        headers.append(("x-acs-retry-after", str(error.retry_after_ms)))
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return ApiResponse(error.http_status, payload, headers)


class CallCounter:
    """Counts calls per ``Product.Action`` (for ``/_sim/calls``)."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def count(self, name: str) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))

    def reset(self) -> None:
        with self._lock:
            self._counts = {}
