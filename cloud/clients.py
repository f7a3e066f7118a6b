"""SDK clients per (product, region) and the one place where SDK calls are made.

``call()`` is the only function that invokes an Alibaba Cloud SDK. It turns every SDK exception
into one of our errors (see ``errors.py``), treats ``DryRunOperation`` as success, and returns
the response body as the plain dict the cloud sent, which the typed modules (``ecs.py``,
``vpc.py``, ``oos.py``, ``cms.py``) read into dataclasses.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ThrottlingException
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.exceptions import DaraException, UnretryableException, ValidateException
from darabonba.runtime import RuntimeOptions
from django.conf import settings
from requests import RequestException

from cloud.errors import CloudError, InvalidRequest, Transient, classify
from cloud.telemetry import count_call

logger = logging.getLogger("cloud")

_PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy")


@dataclass(frozen=True)
class Product:
    """An Alibaba Cloud API product: its SDK module and how its regional endpoint is named."""

    name: str
    sdk_module: str
    endpoint_prefix: str
    central_endpoint_region: str | None = None
    global_endpoint: str | None = None

    def endpoint(self, region: str) -> str:
        if self.global_endpoint:
            return self.global_endpoint
        if region == self.central_endpoint_region:
            return f"{self.endpoint_prefix}.aliyuncs.com"
        return f"{self.endpoint_prefix}.{region}.aliyuncs.com"


ECS = Product("ECS", "alibabacloud_ecs20140526", "ecs", central_endpoint_region="cn-hangzhou")
VPC = Product("VPC", "alibabacloud_vpc20160428", "vpc")
OOS = Product("OOS", "alibabacloud_oos20190601", "oos")
CMS = Product("CMS", "alibabacloud_cms20190101", "metrics")
# Billing (BSS OpenAPI) answers for the whole account at one endpoint.
BSS = Product(
    "BSS", "alibabacloud_bssopenapi20171214", "business", global_endpoint="business.aliyuncs.com"
)

_clients: dict[tuple[Any, ...], Any] = {}
_clients_lock = threading.Lock()
_credential_client: Any = None


def models(product: Product) -> Any:
    """The SDK's request models module for a product (used by the typed modules)."""
    return import_module(f"{product.sdk_module}.models")


def _scrub_proxy_environment() -> None:
    # The SDK reads HTTP(S)_PROXY on every call, even for 127.0.0.1, and ignores NO_PROXY.
    # A control plane must not send its cloud credentials through whatever proxy the shell
    # happened to export, so those variables are removed from this process; an explicit
    # proxy for the cloud is NESTOPS_CLOUD_PROXY.
    found = [name for name in _PROXY_VARIABLES if os.environ.pop(name, None) is not None]
    if found:
        logger.warning(
            "Ignoring %s for Alibaba Cloud calls; set NESTOPS_CLOUD_PROXY to use a proxy.",
            ", ".join(found),
        )


def _config(product: Product, region: str) -> Config:
    global _credential_client
    config = Config(
        region_id=region,
        connect_timeout=settings.NESTOPS_CLOUD_CONNECT_TIMEOUT_MS,
        read_timeout=settings.NESTOPS_CLOUD_READ_TIMEOUT_MS,
    )
    if settings.NESTOPS_CLOUD == "sim":
        config.endpoint = settings.NESTOPS_SIM_ENDPOINT
        config.protocol = "http"
        config.access_key_id = settings.NESTOPS_SIM_ACCESS_KEY_ID
        config.access_key_secret = settings.NESTOPS_SIM_ACCESS_KEY_SECRET
    else:
        from alibabacloud_credentials.client import Client as CredentialClient

        if _credential_client is None:
            # The default chain: environment variables, the profile file, then the ECS RAM
            # role of the machine the control plane runs on.
            _credential_client = CredentialClient()
        config.credential = _credential_client
        config.endpoint = product.endpoint(region)
        config.protocol = "https"
        if settings.NESTOPS_CLOUD_PROXY:
            config.https_proxy = settings.NESTOPS_CLOUD_PROXY
    return config


def client(product: Product, region: str) -> Any:
    """A cached SDK client for a product in a region."""
    key = (
        product.name,
        region,
        settings.NESTOPS_CLOUD,
        settings.NESTOPS_SIM_ENDPOINT,
        settings.NESTOPS_SIM_ACCESS_KEY_ID,
        settings.NESTOPS_SIM_ACCESS_KEY_SECRET,
        settings.NESTOPS_CLOUD_READ_TIMEOUT_MS,
    )
    with _clients_lock:
        found = _clients.get(key)
        if found is None:
            _scrub_proxy_environment()
            sdk = import_module(f"{product.sdk_module}.client")
            found = sdk.Client(_config(product, region))
            _clients[key] = found
        return found


def _snake(action: str) -> str:
    # The SDKs name CreateVSwitch create_vswitch: "VSwitch" is one word to them.
    return re.sub(r"(?<!^)(?=[A-Z])", "_", action.replace("VSwitch", "Vswitch")).lower()


def _cloud_message(exc: AlibabaCloudException) -> str:
    # The SDK rewrites ``message`` into a long string with the whole response; the body's own
    # Message is what the cloud said and what the operator should read.
    data = exc.data if isinstance(exc.data, dict) else {}
    return str(data.get("Message") or exc.message or exc.code or "no message")


def _translate(exc: Exception, action: str) -> CloudError:
    if isinstance(exc, AlibabaCloudException):
        code = str(exc.code or "UnknownError")
        data = exc.data if isinstance(exc.data, dict) else {}
        request_id = exc.request_id or data.get("RequestId")
        status = exc.status_code
        if isinstance(exc, ThrottlingException):
            kind = classify("Throttling", status)
        else:
            kind = classify(code, status)
        retry_after = getattr(exc, "retry_after", None)
        return kind(
            code,
            _cloud_message(exc),
            request_id=request_id,
            http_status=status,
            action=action,
            retry_after_ms=int(retry_after) if retry_after else None,
        )
    if isinstance(exc, ValidateException | ValueError | TypeError):
        return InvalidRequest("InvalidParameter", str(exc), action=action)
    # Connection refused, timeouts, unreadable answers: the SDK raises UnretryableException
    # (or RetryError) for all of them; none of them says anything about our request.
    inner = getattr(exc, "inner_exception", None) or exc
    name = type(inner).__name__
    code = "Timeout" if "timeout" in name.lower() or "timed out" in str(inner) else "NetworkError"
    return Transient(code, f"{name}: {inner}"[:500], action=action)


def call(
    product: Product, region: str, action: str, request: Any, *, dry_run: bool = False
) -> dict[str, Any]:
    """Calls ``action`` and returns the response body as the cloud sent it; ``request`` is
    None for actions that take no parameters.

    With ``dry_run`` the cloud's ``DryRunOperation`` answer is the success value ``{}``.
    """
    method = getattr(client(product, region), f"{_snake(action)}_with_options")
    started = time.monotonic()
    try:
        data = _call(method, request, product, region, action, dry_run=dry_run)
    except CloudError as error:
        count_call(product.name, action, time.monotonic() - started, error.code)
        raise
    count_call(product.name, action, time.monotonic() - started)
    return data


def _call(
    method: Any, request: Any, product: Product, region: str, action: str, *, dry_run: bool
) -> dict[str, Any]:
    started = time.monotonic()
    try:
        # Actions without parameters (BSS QueryAccountBalance) take no request model.
        response = (
            method(RuntimeOptions()) if request is None else method(request, RuntimeOptions())
        )
    except (AlibabaCloudException, DaraException, UnretryableException) as exc:
        error = _translate(exc, action)
        if dry_run and error.code == "DryRunOperation":
            logger.debug("%s.%s dry run passed in %s", product.name, action, region)
            return {"RequestId": error.request_id, "DryRun": True}
        logger.info(
            "%s.%s in %s failed: %s (request %s)",
            product.name,
            action,
            region,
            error.code,
            error.request_id,
        )
        raise error from None
    except (OSError, RequestException) as exc:  # network errors the SDK did not wrap
        raise _translate(exc, action) from None
    body = response.body
    if body is None:
        raise Transient("MalformedResponse", f"{action} answered with an unreadable body")
    data = body.to_map()
    logger.debug(
        "%s.%s in %s took %.0f ms (request %s)",
        product.name,
        action,
        region,
        (time.monotonic() - started) * 1000,
        data.get("RequestId"),
    )
    return data


def request_model(product: Product, name: str, /, **fields: Any) -> Any:
    """Builds an SDK request model, leaving out fields that are ``None``."""
    cls = getattr(models(product), name)
    return cls(**{key: value for key, value in fields.items() if value is not None})
