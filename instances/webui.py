"""Talking to a host's WebUI from the control plane (readiness, and what it is doing)."""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist

from instances.models import ServiceInstance
from nestops import certificates

TIMEOUT_SECONDS = 5.0
_session = requests.Session()
# Cloud calls never use the environment's proxies; neither do calls to our own hosts.
_session.trust_env = False
# evaluate_idle asks many hosts at once from a thread pool: keep a connection per host.
_session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=64, pool_maxsize=64))
_session.mount("https://", requests.adapters.HTTPAdapter(pool_connections=64, pool_maxsize=64))


# Never a WebUI, whatever an endpoint says: link-local (cloud metadata at 169.254.169.254) and
# Alibaba Cloud's metadata service. The gateway and the control plane's own calls check this.
FORBIDDEN_NETWORKS = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))
METADATA_ADDRESSES = {"100.100.100.200"}


def owned_endpoint(instance: ServiceInstance) -> str | None:
    """The instance's WebUI base URL if it points at an address the instance owns (its public
    or private IP; cloudsim's endpoint in the simulated cloud); None otherwise."""
    endpoint = instance.webui_endpoint
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or parts.query or parts.fragment:
        return None
    owned = {str(a) for a in (instance.public_ip, instance.private_ip) if a}
    if settings.NESTOPS_CLOUD == "sim":
        owned.add(urlsplit(f"//{settings.NESTOPS_SIM_ENDPOINT}").hostname or "")
    if host not in owned or host in METADATA_ADDRESSES:
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return endpoint.rstrip("/")
    if any(address in network for network in FORBIDDEN_NETWORKS):
        return None
    return endpoint.rstrip("/")


class _PinnedAdapter(requests.adapters.HTTPAdapter):
    """HTTPS that trusts exactly the host's recorded certificate (never the public CAs)."""

    def __init__(self, pem: str) -> None:
        self._context = certificates.pinned_context(pem)
        super().__init__(pool_connections=8, pool_maxsize=8)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        kwargs["assert_hostname"] = False
        super().init_poolmanager(*args, **kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # requests would add its CA bundle to the context: the pin alone decides.
        conn.cert_reqs = "CERT_REQUIRED"
        conn.ca_certs = conn.ca_cert_dir = None


@functools.lru_cache(maxsize=256)
def _pinned_session(pem: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.mount("https://", _PinnedAdapter(pem))
    return session


def host_certificate(instance: ServiceInstance) -> str:
    """The certificate recorded for the host's WebUI (the gateway's HostCertificate), or ""."""
    try:
        return instance.webui_certificate.pem  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return ""


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
    session = _session
    if instance.webui_endpoint.startswith("https://"):
        # Without a recorded certificate, the system's CAs (as the gateway does).
        pem = host_certificate(instance)
        session = _pinned_session(pem) if pem else _session
    try:
        response = session.get(
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


# Where the WebUI lives on a host (operations/scripts/common.sh); model paths are relative to it.
HOST_WEBUI_DIR = "/root/stable-diffusion-webui"


def preview_image(
    instance: ServiceInstance, path: str, *, max_bytes: int, timeout: float = TIMEOUT_SECONDS
) -> bytes | None:
    """The image at ``path`` (relative to the WebUI directory) as the WebUI's extra networks
    page serves a card's preview; None when the host has no such file or it is larger than
    ``max_bytes`` (read no further than that)."""
    endpoint = owned_endpoint(instance)
    if endpoint is None:
        raise WebUIUnreachable("the instance has no WebUI endpoint at an address it owns")
    try:
        response = _session.get(
            endpoint + "/sd_extra_networks/thumb",
            params={"filename": f"{HOST_WEBUI_DIR}/{path}"},
            auth=(instance.webui_user, instance.webui_password),
            timeout=timeout,
            stream=True,
        )
    except requests.RequestException as exc:
        raise WebUIUnreachable(f"{type(exc).__name__}: {exc}"[:300]) from None
    with response:
        if response.status_code in (404, 500):  # missing, or refused by the WebUI's checks
            return None
        if response.status_code != 200:
            raise WebUIUnreachable(f"HTTP {response.status_code} from the preview of {path}")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            return None
        data = bytearray()
        try:
            for chunk in response.iter_content(64 * 1024):
                data += chunk
                if len(data) > max_bytes:
                    return None
        except requests.RequestException as exc:
            raise WebUIUnreachable(f"{type(exc).__name__}: {exc}"[:300]) from None
    return bytes(data)
