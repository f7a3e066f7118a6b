"""Posting to webhooks through the outbound address policy (``nestops.addresses``).

The sender resolves the webhook's host itself when it connects, refuses the connection unless
every address the name resolves to is allowed, connects to the checked address and checks the
socket's peer again: a name that resolves to a private address after the channel was saved is
caught. Redirects are never followed. Errors are fixed phrases: nothing the remote server sends
back reaches ``last_error``.

With ``NESTOPS_WEBHOOK_PROXY`` the proxy makes the connection; the URL is still checked by name.
"""

from __future__ import annotations

import socket
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import connection as urllib3_connection

from nestops import addresses

TIMEOUT_SECONDS = 10


class DeliveryFailed(Exception):
    """A webhook or mail delivery that did not go through; the message is safe to show."""


def allow_private() -> bool:
    return settings.NESTOPS_WEBHOOK_ALLOW_PRIVATE_URLS


def check_webhook_url(url: str) -> addresses.Target:
    """The webhook's target if the policy allows it; raises ``addresses.AddressRefused``."""
    return addresses.check_url(url, allow_private=allow_private(), schemes=("https", "http"))


class _CheckedConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        address = addresses.resolve(self._dns_host, self.port, allow_private=allow_private())
        sock = urllib3_connection.create_connection(
            (address, self.port),
            self.timeout,
            source_address=self.source_address,
            socket_options=self.socket_options,
        )
        try:
            addresses.check_peer(sock.getpeername()[0], allow_private=allow_private())
        except addresses.AddressRefused:
            sock.close()
            raise
        return sock


class _CheckedHTTPSConnection(_CheckedConnection, HTTPSConnection):
    pass


class _CheckedPool(HTTPConnectionPool):
    ConnectionCls = _CheckedConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class CheckedAdapter(HTTPAdapter):
    """A requests adapter whose connections go only to addresses the policy allows."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedPool, "https": _CheckedHTTPSPool}


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # proxy variables of the environment are never used
    session.mount("http://", CheckedAdapter())
    session.mount("https://", CheckedAdapter())
    return session


_shared_session = _session()


def post(url: str, payload: dict[str, Any]) -> requests.Response:
    """POSTs ``payload`` as JSON to ``url``; raises ``DeliveryFailed`` with a fixed phrase."""
    proxy = settings.NESTOPS_WEBHOOK_PROXY
    try:
        check_webhook_url(url)
        response = _shared_session.post(
            url,
            json=payload,
            timeout=TIMEOUT_SECONDS,
            proxies={"http": proxy, "https": proxy} if proxy else None,
            allow_redirects=False,
        )
    except addresses.AddressRefused as exc:
        raise DeliveryFailed(f"refused by the outbound address policy ({exc.code})") from None
    except requests.Timeout:
        raise DeliveryFailed("the webhook did not answer in time") from None
    except requests.exceptions.SSLError:
        raise DeliveryFailed("the webhook's TLS certificate could not be verified") from None
    except requests.RequestException:
        raise DeliveryFailed("could not connect to the webhook") from None
    if 300 <= response.status_code < 400:
        raise DeliveryFailed(f"HTTP {response.status_code}: redirects are not followed")
    if response.status_code >= 400:
        raise DeliveryFailed(f"HTTP {response.status_code}")
    return response
