"""The WSGI application of the simulator (served by ``cloudsim.httpd``).

Three kinds of requests share one port: cloud API calls (``/?...``), the simulated WebUIs
(``/hosts/<instance-id>/...``) and the control API (``/_sim/...``).
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from cloudsim import api

if TYPE_CHECKING:
    from cloudsim.simulator import Simulator
    from cloudsim.websocket import WebSocketChannel

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class Application:
    """The WSGI application of one simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO") or "/"
        body = _read_body(environ)
        headers = environ.get("cloudsim.headers") or _headers_from_environ(environ)
        try:
            if path == "/_sim" or path.startswith("/_sim/"):
                remote = environ.get("REMOTE_ADDR", "")
                status, payload = self.sim.control.handle(method, path, remote, body)
                return _respond(start_response, status, _json(payload), "application/json", [])
            if path.startswith("/hosts/"):
                instance_id, _, rest = path[len("/hosts/") :].partition("/")
                query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
                answer = self.sim.webui.handle(
                    method,
                    instance_id,
                    "/" + rest,
                    headers,
                    body,
                    query,
                    tls=environ.get("wsgi.url_scheme") == "https",
                )
                if answer.stream is not None:
                    stream_headers = [*answer.headers, ("Content-Type", answer.content_type)]
                    start_response(f"{answer.status} OK", stream_headers)
                    return answer.stream
                return _respond(
                    start_response,
                    answer.status,
                    answer.body,
                    answer.content_type,
                    list(answer.headers),
                )
            if path != "/":
                return _respond(
                    start_response, 404, _json({"detail": "Not Found"}), "application/json", []
                )
            params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
            if body and "x-www-form-urlencoded" in headers.get("content-type", ""):
                form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
                params.update(form)
            answer = api.handle(self.sim, method, path, params, headers, body)
            return _respond(start_response, answer.status, answer.body, None, answer.headers)
        except Exception:
            print(f"cloudsim: unexpected error on {method} {path}", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            payload = _json({"detail": "cloudsim internal error (see its stderr)"})
            return _respond(start_response, 500, payload, "application/json", [])

    def websocket(
        self,
        target: str,
        headers: dict[str, str],
        channel: WebSocketChannel,
        *,
        tls: bool = False,
    ) -> None:
        """A WebSocket upgrade: only Gradio's queue on a simulated host speaks it."""
        path = unquote(target.partition("?")[0])
        if not path.startswith("/hosts/"):
            channel.refuse(404, "Not Found")
            return
        instance_id, _, rest = path[len("/hosts/") :].partition("/")
        self.sim.webui.websocket(instance_id, "/" + rest, headers, channel, tls=tls)


def _json(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def _respond(
    start_response: StartResponse,
    status: int,
    body: bytes,
    content_type: str | None,
    headers: list[tuple[str, str]],
) -> list[bytes]:
    all_headers = list(headers)
    if content_type is not None:
        all_headers.append(("Content-Type", content_type))
    all_headers.append(("Content-Length", str(len(body))))
    start_response(f"{status} {HTTPStatus(status).phrase}", all_headers)
    return [body]


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    return stream.read(length) if length > 0 and stream is not None else b""


def _headers_from_environ(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].lower().replace("_", "-"): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = environ["CONTENT_LENGTH"]
    return headers
