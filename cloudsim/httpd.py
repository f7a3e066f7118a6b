"""A small threaded HTTP/1.1 server for the simulator's WSGI application.

It keeps connections alive: the SDKs pool connections (requests sessions), and a new TCP
connection per call would cost more than answering it. Each connection gets a daemon thread,
because a WebUI generation blocks while its progress is polled on another connection. The
request parser is deliberately minimal (request line, headers, Content-Length body): the
standard library's ``BaseHTTPRequestHandler`` parses headers with the e-mail package, which
costs more than the simulator spends on a typical call.
"""

from __future__ import annotations

import contextlib
import io
import socket
import socketserver
import sys
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

MAX_LINE = 65_536
MAX_HEADERS = 100
MAX_BODY = 64 * 1024 * 1024
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _BadRequest(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class _Connection(socketserver.StreamRequestHandler):
    """Serves the requests of one connection until the client closes it or asks to."""

    server: ThreadedServer
    # An idle keep-alive connection is dropped after this long, so its thread ends.
    timeout = 600

    def setup(self) -> None:
        super().setup()
        # A response goes out in one write; do not wait for the peer's ACK (Nagle).
        with contextlib.suppress(OSError):  # not a TCP socket
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        with contextlib.suppress(ConnectionError, TimeoutError):
            while self._one_request():
                pass

    def _one_request(self) -> bool:
        try:
            request = self._read_request()
        except _BadRequest as error:
            body = f'{{"detail":"{error.detail}"}}'.encode()
            self._write(error.status, [("Content-Type", "application/json")], body, close=True)
            return False
        if request is None:
            return False
        method, target, version, headers = request
        if headers.get("upgrade", "").lower() == "websocket" and hasattr(
            self.server.app, "websocket"
        ):
            from cloudsim.websocket import WebSocketChannel

            channel = WebSocketChannel(self.rfile, self.wfile, target, headers)
            self.server.app.websocket(target, headers, channel)
            return False
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b'{"detail":"Send a Content-Length."}'
            self._write(411, [("Content-Type", "application/json")], body, close=True)
            return False
        if headers.get("expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self._write(
                400,
                [("Content-Type", "application/json")],
                b'{"detail":"Bad Content-Length."}',
                close=True,
            )
            return False
        body = self.rfile.read(length) if length else b""
        if len(body) != length:
            return False
        connection = headers.get("connection", "").lower()
        keep_alive = (
            "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
        )
        status, response_headers, payload = self._call_app(method, target, version, headers, body)
        if not isinstance(payload, bytes):
            self._stream(status, response_headers, payload)
            return False
        self._write(
            status,
            response_headers,
            b"" if method == "HEAD" else payload,
            close=not keep_alive,
            length=len(payload),
        )
        return keep_alive

    def _read_request(self) -> tuple[str, str, str, dict[str, str]] | None:
        line = self.rfile.readline(MAX_LINE + 1)
        while line in (b"\r\n", b"\n"):  # tolerate stray empty lines between requests
            line = self.rfile.readline(MAX_LINE + 1)
        if not line:
            return None
        if len(line) > MAX_LINE:
            raise _BadRequest(414, "Request line too long.")
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _BadRequest(400, "Bad request line.")
        method, target, version = parts
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS + 1):
            raw = self.rfile.readline(MAX_LINE + 1)
            if raw in (b"\r\n", b"\n", b""):
                return method, target, version, headers
            if len(raw) > MAX_LINE:
                raise _BadRequest(431, "Header line too long.")
            name, colon, value = raw.decode("latin-1").partition(":")
            if not colon:
                raise _BadRequest(400, "Bad header line.")
            name = name.strip().lower()
            value = value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        raise _BadRequest(431, "Too many headers.")

    def _call_app(
        self, method: str, target: str, version: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes | Iterable[bytes]]:
        raw_path, _, query = target.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": unquote(raw_path, encoding="latin-1"),
            "QUERY_STRING": query,
            "CONTENT_TYPE": headers.get("content-type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "SERVER_NAME": self.server.server_name,
            "SERVER_PORT": str(self.server.server_port),
            "SERVER_PROTOCOL": version,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            # The parsed headers as they came, so the API need not rebuild them from HTTP_*.
            "cloudsim.headers": headers,
        }
        for name, value in headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        answer: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], *_: Any) -> None:
            answer["status"] = int(status.split(" ", 1)[0])
            answer["headers"] = response_headers

        result = self.server.app(environ, start_response)
        headers_out = [(k, v) for k, v in answer["headers"] if k.lower() != "content-length"]
        if any(k.lower() == "content-type" and "event-stream" in v for k, v in headers_out):
            return answer["status"], headers_out, result  # written as it is produced
        payload = b"".join(result)
        headers_out = [(k, v) for k, v in answer["headers"] if k.lower() != "content-length"]
        return answer["status"], headers_out, payload

    def _stream(self, status: int, headers: list[tuple[str, str]], chunks: Iterable[bytes]) -> None:
        """A response of unknown length (server-sent events): each chunk goes out as it is
        produced, and the connection closes at its end."""
        lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", "Server: cloudsim"]
        lines += [f"{name}: {value}" for name, value in headers]
        lines.append("Connection: close")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        self.wfile.flush()
        for chunk in chunks:
            self.wfile.write(chunk)
            self.wfile.flush()

    def _write(
        self,
        status: int,
        headers: list[tuple[str, str]],
        payload: bytes,
        *,
        close: bool,
        length: int | None = None,
    ) -> None:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [f"HTTP/1.1 {status} {reason}", "Server: cloudsim"]
        lines += [f"{name}: {value}" for name, value in headers]
        lines.append(f"Content-Length: {len(payload) if length is None else length}")
        if close:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + payload)


class ThreadedServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """One daemon thread per connection."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: WsgiApp) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        super().__init__(address, _Connection)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
