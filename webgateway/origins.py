"""Which instance a request is for, and what kind of request it is. Pure rules shared by the
Django side and the gateway process (no database)."""

from __future__ import annotations

import functools
import re
from urllib.parse import unquote

from django.conf import settings

INSTANCE_ID = r"si-[a-z2-7]{12}"
# Paths under this prefix on an instance's origin belong to nestops, never to the WebUI.
NESTOPS_PREFIX = "/_nestops/"
COOKIE_NAME = "nestops_webui"
MAX_PATH_LENGTH = 8192

# Requests that make the WebUI work: generations, uploads, queue joins. Heartbeats, progress
# polls, page loads and assets are not.
_WORK_PATHS = (
    "/sdapi/v1/txt2img",
    "/sdapi/v1/img2img",
    "/sdapi/v1/extra-single-image",
    "/sdapi/v1/extra-batch-images",
    "/queue/join",
    "/run/predict",
    "/api/predict",
    "/upload",
    "/gradio_api/queue/join",
    "/gradio_api/upload",
)
# Long-lived streams that carry a job while they are open (Gradio 3's WebSocket queue, Gradio
# 4's SSE queue).
_STREAM_PATHS = ("/queue/join", "/queue/data", "/gradio_api/queue/data")


@functools.lru_cache(maxsize=8)
def _host_pattern(domain: str) -> re.Pattern[str]:
    return re.compile(rf"({INSTANCE_ID})\.{re.escape(domain)}(?::\d{{1,5}})?")


def instance_id_from_host(host: str) -> str | None:
    """``si-xxxx`` from ``si-xxxx.<NESTOPS_WEBUI_DOMAIN>[:port]``; None for anything else."""
    found = _host_pattern(settings.NESTOPS_WEBUI_DOMAIN).fullmatch(host.lower())
    return found.group(1) if found else None


def webui_origin(public_id: str) -> str:
    """The stable origin of an instance's WebUI (the same across stops, starts and new IPs)."""
    port = settings.NESTOPS_WEBUI_PUBLIC_PORT
    suffix = f":{port}" if port else ""
    return f"{settings.NESTOPS_WEBUI_SCHEME}://{public_id}.{settings.NESTOPS_WEBUI_DOMAIN}{suffix}"


def is_work(method: str, path: str) -> bool:
    path = path.split("?", 1)[0]
    if method.upper() in ("GET", "HEAD", "OPTIONS"):
        # A WebSocket join is a GET.
        return path in ("/queue/join",)
    return path in _WORK_PATHS


def is_stream(path: str) -> bool:
    return path.split("?", 1)[0] in _STREAM_PATHS


def is_state_changing(method: str) -> bool:
    return method.upper() not in ("GET", "HEAD", "OPTIONS")


def unsafe_path(target: str) -> str | None:
    """Why a request target may not be forwarded, or None. Only origin-form targets pass: no
    absolute URLs, no dot segments (encoded or not), no backslashes or control characters, so
    a path can never climb out of the host's WebUI base URL."""
    if len(target) > MAX_PATH_LENGTH:
        return "the request target is too long"
    if not target.startswith("/") or target.startswith("//"):
        return "the request target must be a path"
    path = target.split("?", 1)[0]
    decoded = unquote(unquote(path))
    if "\\" in decoded or any(ord(c) < 32 or ord(c) == 127 for c in decoded):
        return "the path contains forbidden characters"
    if any(segment in (".", "..") for segment in decoded.split("/")):
        return "the path contains dot segments"
    return None
