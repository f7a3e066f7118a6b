"""The WebUI gateway process: an ASGI app (run by uvicorn) in front of every host's WebUI.

For each request it asks Django's auth endpoint (``/gateway/auth``, the contract nginx's
``auth_request`` uses too) whether the request may pass and where to; then it streams the
request to the host's WebUI with the host's own credentials (the client's are stripped) and
streams the answer back, unbuffered. WebSockets (Gradio 3's queue) are relayed message by
message, SSE (Gradio 4's queue) is a streamed response. ``/_nestops/*`` on an instance's
origin is nestops' own (handoff, lifecycle pages, start) and goes to Django's ``/gateway/*``.

    uvicorn webgateway.proxy:app --port 8001
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

# The gateway reads nestops' settings (never its database): run as its own process it has to
# say which settings module that is before anything reads them.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nestops.settings")

from nestops import certificates
from webgateway import origins
from webgateway.gradio_login import GradioLogins
from webgateway.relay import relay_websocket

logger = logging.getLogger("nestops.gateway")

Scope = dict[str, Any]
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}
# Never forwarded to a host: the client's credentials and our own headers.
STRIPPED = {"authorization", "x-nestops-gateway-secret", "forwarded"}
# What Django's answer may tell the client besides its body.
REFUSAL_HEADERS = ("content-type", "retry-after", "www-authenticate", "location", "set-cookie")
MAX_HEADER_BYTES = 32 * 1024
CACHE_LIMIT = 10_000


@dataclass(frozen=True)
class Config:
    auth_url: str
    secret: str
    cache_seconds: int
    read_timeout: float
    max_upload: int
    # How often an open queue stream is reported as activity (and its access re-checked).
    stream_report_seconds: float = 30.0

    @classmethod
    def from_settings(cls) -> Config:
        from django.conf import settings

        return cls(
            auth_url=settings.NESTOPS_GATEWAY_AUTH_URL.rstrip("/") + "/",
            secret=settings.NESTOPS_GATEWAY_SECRET,
            cache_seconds=settings.NESTOPS_GATEWAY_AUTH_CACHE_SECONDS,
            read_timeout=float(settings.NESTOPS_GATEWAY_READ_TIMEOUT_SECONDS),
            max_upload=settings.NESTOPS_GATEWAY_MAX_UPLOAD_BYTES,
        )


@dataclass
class Incoming:
    """The parts of a client request the gateway decides on."""

    scope: Scope
    host: str
    target: str
    headers: list[tuple[str, str]]

    @classmethod
    def of(cls, scope: Scope) -> Incoming:
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        return cls(
            scope, _header(headers, "host"), raw_path + (f"?{query}" if query else ""), headers
        )

    @property
    def method(self) -> str:
        return self.scope.get("method", "GET")

    @property
    def proto(self) -> str:
        return "https" if self.scope.get("scheme") in ("https", "wss") else "http"

    @property
    def client_ip(self) -> str:
        client = self.scope.get("client")
        return client[0] if client else ""

    def get(self, name: str) -> str:
        return _header(self.headers, name)


def _header(headers: list[tuple[str, str]], name: str) -> str:
    return next((v for k, v in headers if k == name), "")


def _without_our_cookie(cookie: str) -> str:
    kept = [
        p.strip()
        for p in cookie.split(";")
        if p.strip() and p.strip().partition("=")[0] != origins.COOKIE_NAME
    ]
    return "; ".join(kept)


@dataclass(frozen=True)
class Grant:
    upstream: str
    authorization: str
    user: str
    # The host's recorded certificate (PEM) when it serves TLS: the only one accepted.
    certificate: str = ""

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.certificate:
            return None
        return pinned_context(self.certificate)


pinned_context = certificates.pinned_context


class _NoCookies(httpx.Cookies):
    """A cookie store that never keeps one."""

    def extract_cookies(self, response: httpx.Response) -> None:
        pass

    def set_cookie_header(self, request: httpx.Request) -> None:
        pass


class HostClient(httpx.AsyncClient):
    """The client for hosts' WebUIs. It keeps no cookies: what one WebUI sets is relayed to
    the browser that asked, never stored here and replayed to another request or to another
    host that later has the same address (the gateway adds the Gradio login itself). Not
    parsing every answer for cookies is also a good part of the cost of a proxied request."""

    _no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise TypeError("the gateway's clients for hosts keep no cookies")


class Gateway:
    def __init__(self, config: Config | None = None) -> None:
        self._config = config
        self._auth: httpx.AsyncClient | None = None
        self._hosts: httpx.AsyncClient | None = None
        self._pinned: dict[str, httpx.AsyncClient] = {}
        self._cache: dict[tuple[str, str], tuple[float, Grant]] = {}
        self.gradio = GradioLogins()

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = Config.from_settings()
        return self._config

    def clients(self) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
        if self._auth is None or self._hosts is None:
            # The environment's proxies are never used: hosts are reached directly.
            self._auth = httpx.AsyncClient(timeout=30.0, trust_env=False)
            timeout = httpx.Timeout(self.config.read_timeout, connect=10.0, pool=None)
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=200)
            self._hosts = HostClient(timeout=timeout, limits=limits, trust_env=False)
        return self._auth, self._hosts

    def host_client(self, grant: Grant) -> httpx.AsyncClient:
        """The client for a host: one per pinned certificate, the shared one otherwise."""
        _auth, hosts = self.clients()
        if not grant.certificate:
            return hosts
        client = self._pinned.get(grant.certificate)
        if client is None:
            client = HostClient(timeout=hosts.timeout, verify=grant.ssl_context(), trust_env=False)
            self._pinned[grant.certificate] = client
        return client

    async def close(self) -> None:
        for client in (self._auth, self._hosts, *self._pinned.values()):
            if client is not None:
                await client.aclose()
        self._auth = self._hosts = None
        self._pinned = {}

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(Incoming.of(scope), receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(Incoming.of(scope), receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # --- asking Django ---------------------------------------------------------------------

    def _forwarded(self, incoming: Incoming) -> dict[str, str]:
        forwarded_for = ", ".join(
            a for a in (incoming.get("x-forwarded-for"), incoming.client_ip) if a
        )
        return {
            "X-Nestops-Gateway-Secret": self.config.secret,
            "X-Forwarded-Host": incoming.host,
            "X-Forwarded-Proto": incoming.proto,
            "X-Forwarded-For": forwarded_for,
        }

    async def authorize(
        self, incoming: Incoming, *, upgrade: bool = False, stream_open: bool = False
    ) -> Grant | httpx.Response:
        """A grant to reach the host, or Django's refusal (a response to relay)."""
        cookie = incoming.get("cookie")
        cacheable = not (
            incoming.get("authorization")
            or upgrade
            or stream_open
            or origins.is_work(incoming.method, incoming.target)
            or origins.is_state_changing(incoming.method)
        )
        key = (incoming.host, cookie)
        if cacheable and (hit := self._cache.get(key)) and hit[0] > time.monotonic():
            return hit[1]
        headers = self._forwarded(incoming)
        headers.update({"X-Original-Method": incoming.method, "X-Original-URI": incoming.target})
        for name in ("cookie", "authorization", "origin", "accept", "user-agent"):
            if value := incoming.get(name):
                headers[name] = value
        if upgrade:
            headers["Upgrade"] = "websocket"
        if stream_open:
            headers["X-Nestops-Stream"] = "open"
        auth, _hosts = self.clients()
        answer = await auth.get(self.config.auth_url + "auth", headers=headers)
        if answer.status_code != 200:
            return answer
        pinned = answer.headers.get("X-Nestops-Upstream-Certificate", "")
        grant = Grant(
            answer.headers["X-Nestops-Upstream"],
            answer.headers["X-Nestops-Upstream-Authorization"],
            answer.headers.get("X-Nestops-User", ""),
            base64.b64decode(pinned).decode() if pinned else "",
        )
        # Django says how long (0 for tokens and work); the gateway's own setting caps it.
        seconds = min(int(answer.headers.get("X-Nestops-Cache-Seconds", "0")), 30)
        seconds = min(seconds, self.config.cache_seconds)
        if cacheable and seconds > 0:
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = (time.monotonic() + seconds, grant)
        return grant

    # --- HTTP ------------------------------------------------------------------------------

    async def _http(self, incoming: Incoming, receive: Any, send: Any) -> None:
        refused = self._check(incoming)
        if refused is not None:
            await _send_json(send, *refused)
            return
        if incoming.target.startswith(origins.NESTOPS_PREFIX):
            await self._to_django(incoming, receive, send)
            return
        try:
            grant = await self.authorize(incoming)
        except httpx.HTTPError as exc:
            logger.warning("the auth endpoint did not answer: %s", exc)
            await _send_json(send, 503, "auth_unavailable", "nestops does not answer; retry.")
            return
        if isinstance(grant, httpx.Response):
            await _relay_refusal(send, grant)
            return
        await self._to_host(incoming, grant, receive, send)

    def _check(self, incoming: Incoming) -> tuple[int, str, str] | None:
        size = sum(len(k) + len(v) + 4 for k, v in incoming.headers)
        if size > MAX_HEADER_BYTES:
            return 431, "headers_too_large", "The request headers are too large."
        if origins.instance_id_from_host(incoming.host) is None:
            return 400, "bad_host", "This address does not name a nestops instance."
        why = origins.unsafe_path(incoming.target)
        if why:
            return 400, "bad_path", why
        length = incoming.get("content-length")
        if length and (not length.isdigit() or int(length) > self.config.max_upload):
            return 413, "too_large", "The request body is too large."
        return None

    async def _to_django(self, incoming: Incoming, receive: Any, send: Any) -> None:
        rest = incoming.target[len(origins.NESTOPS_PREFIX) :]
        headers = self._forwarded(incoming)
        for name in ("cookie", "origin", "accept", "user-agent", "content-type", "authorization"):
            if value := incoming.get(name):
                headers[name] = value
        body = b""
        if origins.is_state_changing(incoming.method):
            body = b"".join([chunk async for chunk in _body(receive, 1024 * 1024)])
        auth, _hosts = self.clients()
        try:
            answer = await auth.request(
                incoming.method, self.config.auth_url + rest, headers=headers, content=body
            )
        except (httpx.HTTPError, ValueError):
            await _send_json(send, 503, "auth_unavailable", "nestops does not answer; retry.")
            return
        await _relay_refusal(send, answer)

    def upstream_headers(
        self, incoming: Incoming, grant: Grant, login: str = ""
    ) -> list[tuple[str, str]]:
        """The client's headers minus hop-by-hop ones and credentials, plus the host's
        credentials (Basic, and the Gradio ``login`` cookies) and what Gradio needs to build
        URLs for the gateway's origin."""
        connection = {t.strip() for t in incoming.get("connection").lower().split(",")}
        headers = []
        cookies = [login] if login else []
        for name, value in incoming.headers:
            if name in HOP_BY_HOP or name in STRIPPED or name in connection:
                continue
            if name.startswith("x-forwarded-"):
                continue
            if name == "cookie":
                if value := _without_our_cookie(value):
                    cookies.insert(0, value)
                continue
            headers.append((name, value))
        if cookies:
            headers.append(("cookie", "; ".join(cookies)))
        forwarded = self._forwarded(incoming)
        headers += [
            ("host", incoming.host),
            ("authorization", grant.authorization),
            ("x-forwarded-host", incoming.host),
            ("x-forwarded-proto", incoming.proto),
            ("x-forwarded-for", forwarded["X-Forwarded-For"]),
        ]
        if length := incoming.get("content-length"):
            headers.append(("content-length", length))
        return headers

    async def _to_host(self, incoming: Incoming, grant: Grant, receive: Any, send: Any) -> None:
        hosts = self.host_client(grant)
        has_body = bool(incoming.get("content-length")) or bool(incoming.get("transfer-encoding"))
        login = await self.gradio.cookie(hosts, grant.upstream, grant.authorization)
        request = hosts.build_request(
            incoming.method,
            grant.upstream + incoming.target,
            headers=self.upstream_headers(incoming, grant, login),
            content=_body(receive, self.config.max_upload) if has_body else None,
        )
        # A generation (a synchronous txt2img may take many minutes before its answer starts)
        # and an open queue stream are activity while they last, and their access is
        # re-checked meanwhile: one watcher from the request to the end of the answer.
        stream = origins.is_stream(incoming.target) and not has_body
        watching = (
            asyncio.create_task(self.report_stream(incoming))
            if stream or origins.is_work(incoming.method, incoming.target)
            else None
        )
        try:
            response = await self._send_watched(hosts, request, watching)
        except AccessEnded as ended:
            await _relay_refusal(send, ended.answer)
            return
        except BodyTooLarge:
            await _send_json(send, 413, "too_large", "The request body is too large.")
            return
        except httpx.TimeoutException:
            seconds = int(self.config.read_timeout)
            await _send_json(
                send, 504, "webui_timeout", f"The WebUI did not answer within {seconds} s."
            )
            return
        except httpx.ConnectError as exc:
            if _is_tls_failure(exc):
                await _send_json(
                    send,
                    502,
                    "webui_certificate",
                    "The host's TLS certificate is not the one nestops recorded.",
                )
                return
            logger.info("the WebUI at %s did not answer: %s", grant.upstream, type(exc).__name__)
            await _send_json(
                send, 502, "webui_unreachable", "The WebUI does not answer yet; retry shortly."
            )
            return
        except httpx.HTTPError as exc:
            logger.info("the WebUI at %s did not answer: %s", grant.upstream, type(exc).__name__)
            await _send_json(
                send, 502, "webui_unreachable", "The WebUI does not answer yet; retry shortly."
            )
            return
        if response.status_code in (401, 403):
            self.gradio.forget(grant.upstream)  # the WebUI restarted and forgot its sessions
        if watching is None:
            # Nothing to watch beside the answer (most requests): relay it here, no tasks.
            try:
                await _relay_response(send, response)
            finally:
                await response.aclose()
            return
        tasks = {asyncio.create_task(_relay_response(send, response)), watching}
        if stream:
            # A queue stream ends when the client leaves (uvicorn's receive() answers
            # http.disconnect then).
            tasks.add(asyncio.create_task(_until_disconnect(receive)))
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await response.aclose()

    async def _send_watched(
        self, hosts: httpx.AsyncClient, request: httpx.Request, watching: asyncio.Task | None
    ) -> httpx.Response:
        """Sends the request; when ``watching`` ends first (nestops refused the access while
        the host had not answered), the request is abandoned with that refusal."""
        if watching is None:
            return await hosts.send(request, stream=True)
        sending = asyncio.create_task(hosts.send(request, stream=True))
        try:
            await asyncio.wait({sending, watching}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            sending.cancel()
            watching.cancel()
            raise
        if sending.done():
            if sending.exception() is not None:
                watching.cancel()
            return sending.result()
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await sending
        raise AccessEnded(watching.result())

    async def report_stream(self, incoming: Incoming) -> httpx.Response:
        """While a queue stream is open or a generation is under way: tell nestops (activity
        for the idle policy) and re-check the access; returns nestops' refusal (a revoked
        token, a removed member, a stopped host), which ends the request."""
        while True:
            await asyncio.sleep(self.config.stream_report_seconds)
            try:
                answer = await self.authorize(incoming, stream_open=True)
            except httpx.HTTPError:
                continue
            if isinstance(answer, httpx.Response):
                return answer

    # --- WebSocket -------------------------------------------------------------------------

    async def _websocket(self, incoming: Incoming, receive: Any, send: Any) -> None:
        message = await receive()  # websocket.connect
        if message["type"] != "websocket.connect":
            return
        refused = self._check(incoming)
        grant: Grant | httpx.Response | None = None
        if refused is None:
            try:
                grant = await self.authorize(incoming, upgrade=True)
            except httpx.HTTPError:
                grant = None
        if not isinstance(grant, Grant):
            # Before accept: the client sees the handshake refused (HTTP 403).
            await send({"type": "websocket.close", "code": 1008})
            return
        login = await self.gradio.cookie(
            self.host_client(grant), grant.upstream, grant.authorization
        )
        relay = relay_websocket(
            incoming, grant, self.upstream_headers(incoming, grant, login), receive, send
        )
        tasks = {asyncio.create_task(relay), asyncio.create_task(self.report_stream(incoming))}
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
        with contextlib.suppress(Exception):  # refused while open: close the client's side
            await send({"type": "websocket.close", "code": 1008})


class BodyTooLarge(Exception):
    pass


class AccessEnded(Exception):
    """nestops refused the access while a request waited for the host's answer."""

    def __init__(self, answer: httpx.Response) -> None:
        super().__init__(answer.status_code)
        self.answer = answer


async def _body(receive: Any, limit: int) -> AsyncIterator[bytes]:
    """The client's request body as it arrives (never held whole), up to ``limit`` bytes."""
    seen = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > limit:
            raise BodyTooLarge
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def _is_tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _until_disconnect(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _relay_response(send: Any, response: httpx.Response) -> None:
    headers = [
        (k.encode("latin-1"), v.encode("latin-1"))
        for k, v in response.headers.multi_items()
        if k.lower() not in HOP_BY_HOP - {"content-length"}
        and k.lower() != "www-authenticate"  # never a browser prompt for the host's password
    ]
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    async for chunk in response.aiter_raw():
        if chunk:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _relay_refusal(send: Any, answer: httpx.Response) -> None:
    headers = [
        (k.encode("latin-1"), v.encode("latin-1"))
        for k, v in answer.headers.multi_items()
        if k.lower() in REFUSAL_HEADERS
    ]
    headers.append((b"cache-control", b"no-store"))
    await send({"type": "http.response.start", "status": answer.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": answer.content})


async def _send_json(send: Any, status: int, code: str, message: str) -> None:
    body = json.dumps({"code": code, "message": message, "details": {}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"cache-control", b"no-store")],
        }
    )
    await send({"type": "http.response.body", "body": body})


app = Gateway()
