"""Fixtures of the gateway tests: Django's live server answers the auth contract, the real
ASGI gateway runs in a thread, hosts are cloudsim's simulated WebUIs or recording upstreams."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from accounts.models import ApiToken
from instances.models import ServiceInstance
from tests.webgateway.servers import run_gateway
from webgateway.proxy import Config
from webgateway.services import exchange_handoff, issue_handoff


@dataclass
class GatewayUnderTest:
    port: int

    def host(self, instance: ServiceInstance | str) -> str:
        public_id = instance if isinstance(instance, str) else instance.public_id
        return f"{public_id}.localhost:{self.port}"

    def origin(self, instance: ServiceInstance | str) -> str:
        return f"http://{self.host(instance)}"

    def client(self, instance: ServiceInstance | str, **kwargs: Any) -> httpx.Client:
        """An HTTP client that talks to the gateway as ``si-xxxx.localhost`` (without DNS)."""
        headers = {"Host": self.host(instance), **kwargs.pop("headers", {})}
        return httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}",
            headers=headers,
            trust_env=False,
            timeout=30,
            **kwargs,
        )

    def session_cookie(self, user: Any, instance: ServiceInstance) -> str:
        code = issue_handoff(user=user, instance=instance)
        plain, _next = exchange_handoff(
            code=code, instance_public_id=instance.public_id, remote_addr=None, user_agent=""
        )
        return plain


@pytest.fixture
def gateway(live_server: Any, settings: Any, cloudsim: Any) -> Iterator[GatewayUnderTest]:
    # The live server runs in a thread of this process; the ORM calls here are synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    config = Config(
        auth_url=f"{live_server.url}/gateway/",
        secret=settings.NESTOPS_GATEWAY_SECRET,
        cache_seconds=0,
        read_timeout=60.0,
        max_upload=settings.NESTOPS_GATEWAY_MAX_UPLOAD_BYTES,
        stream_report_seconds=0.1,
    )
    with run_gateway(config) as port:
        settings.NESTOPS_WEBUI_PUBLIC_PORT = port
        settings.NESTOPS_GATEWAY_TOKEN_RATE_PER_MINUTE = 0
        yield GatewayUnderTest(port)


def token_of(user: Any) -> str:
    _token, plain = ApiToken.issue(user=user, name="webui")
    return plain
