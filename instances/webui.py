"""Talking to a host's WebUI from the control plane (readiness, and what it is doing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from instances.models import ServiceInstance

TIMEOUT_SECONDS = 5.0
_session = requests.Session()
# Cloud calls never use the environment's proxies; neither do calls to our own hosts.
_session.trust_env = False
# evaluate_idle asks many hosts at once from a thread pool: keep a connection per host.
_session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=64, pool_maxsize=64))
_session.mount("https://", requests.adapters.HTTPAdapter(pool_connections=64, pool_maxsize=64))


class WebUIUnreachable(Exception):
    """The WebUI did not answer, or answered with an error."""


@dataclass(frozen=True)
class Progress:
    """``/sdapi/v1/progress``: whether the WebUI is generating or has jobs queued."""

    job_count: int
    job: str
    progress: float

    @property
    def busy(self) -> bool:
        return self.job_count > 0 or bool(self.job)


def _get(instance: ServiceInstance, path: str, timeout: float = TIMEOUT_SECONDS) -> Any:
    if not instance.webui_endpoint:
        raise WebUIUnreachable("the instance has no WebUI endpoint")
    try:
        response = _session.get(
            instance.webui_endpoint.rstrip("/") + path,
            auth=(instance.webui_user, instance.webui_password),
            timeout=timeout,
        )
    except requests.RequestException as exc:
        raise WebUIUnreachable(f"{type(exc).__name__}: {exc}"[:300]) from None
    if response.status_code != 200:
        raise WebUIUnreachable(f"HTTP {response.status_code} from {path}")
    try:
        return response.json()
    except ValueError:
        raise WebUIUnreachable(f"{path} did not answer with JSON") from None


def progress(instance: ServiceInstance, *, timeout: float = TIMEOUT_SECONDS) -> Progress:
    data = _get(instance, "/sdapi/v1/progress?skip_current_image=true", timeout)
    state = data.get("state") or {}
    return Progress(
        job_count=int(state.get("job_count") or 0),
        job=str(state.get("job") or ""),
        progress=float(data.get("progress") or 0.0),
    )
