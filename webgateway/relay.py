"""Relaying a WebSocket between a client (ASGI) and a host's WebUI (websockets client)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

if TYPE_CHECKING:
    from webgateway.proxy import Grant, Incoming

# Headers the websockets client sets itself on the handshake.
HANDSHAKE_HEADERS = {
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
    "origin",
    "user-agent",
    "host",
}


def _ws_url(upstream: str, target: str) -> str:
    scheme, _sep, rest = upstream.partition("://")
    return ("wss" if scheme == "https" else "ws") + "://" + rest + target


async def relay_websocket(
    incoming: Incoming,
    grant: Grant,
    headers: list[tuple[str, str]],
    receive: Any,
    send: Any,
) -> None:
    protocols = [p.strip() for p in incoming.get("sec-websocket-protocol").split(",") if p.strip()]
    try:
        upstream = await connect(
            _ws_url(grant.upstream, incoming.target),
            additional_headers=[(k, v) for k, v in headers if k not in HANDSHAKE_HEADERS],
            origin=incoming.get("origin") or None,
            subprotocols=protocols or None,
            user_agent_header=incoming.get("user-agent") or None,
            proxy=None,
            max_size=None,
            open_timeout=15,
            ping_interval=20,
            compression=None,
            ssl=grant.ssl_context() if grant.upstream.startswith("https://") else None,
        )
    except (OSError, InvalidHandshake, InvalidStatus, TimeoutError):
        await send({"type": "websocket.close", "code": 1011})
        return
    await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})
    to_host = asyncio.create_task(_client_to_host(receive, upstream))
    to_client = asyncio.create_task(_host_to_client(upstream, send))
    try:
        await asyncio.wait({to_host, to_client}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (to_host, to_client):
            task.cancel()
        with contextlib.suppress(Exception):
            await upstream.close()
        with contextlib.suppress(Exception):
            await send({"type": "websocket.close", "code": upstream.close_code or 1000})


async def _client_to_host(receive: Any, upstream: ClientConnection) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        data = message.get("text")
        if data is None:
            data = message.get("bytes") or b""
        try:
            await upstream.send(data)
        except ConnectionClosed:
            return


async def _host_to_client(upstream: ClientConnection, send: Any) -> None:
    try:
        async for data in upstream:
            if isinstance(data, str):
                await send({"type": "websocket.send", "text": data})
            else:
                await send({"type": "websocket.send", "bytes": data})
    except ConnectionClosed:
        return
