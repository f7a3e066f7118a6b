"""Servers the gateway tests run in threads: the gateway itself (uvicorn), and a recording
upstream standing for a host's WebUI (plain HTTP with SSE, and a WebSocket echo)."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import uvicorn
from websockets.sync.server import serve as ws_serve

from webgateway.proxy import Config, Gateway


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@contextmanager
def run_gateway(config: Config) -> Iterator[int]:
    """The ASGI gateway on an ephemeral port; yields the port."""
    sock = _listening_socket()
    server = uvicorn.Server(
        uvicorn.Config(
            Gateway(config),
            log_level="warning",
            ws="websockets-sansio",
            lifespan="on",
            proxy_headers=False,  # the test client is the browser, not a trusted TLS proxy
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class Upstream:
    """What the recording upstream saw, and a gate the SSE stream waits on."""

    port: int = 0
    seen: list[dict[str, Any]] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)
    received_bytes: int = 0
    scheme: str = "http"
    # POST paths answered only once the test opens the gate (a long synchronous generation).
    held: tuple[str, ...] = ()
    # A Set-Cookie header its GET answers carry ("" for none).
    sets_cookie: str = ""

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"


def _handler(upstream: Upstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _record(self) -> None:
            upstream.seen.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "client_port": self.client_address[1],
                }
            )

        def do_GET(self) -> None:
            self._record()
            if self.path.startswith("/queue/data"):
                self._sse()
                return
            if self.path.startswith("/slow"):  # answers only once the test opens the gate
                upstream.gate.wait(30)
            body = json.dumps({"path": self.path}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("WWW-Authenticate", 'Basic realm="host"')
            if upstream.sets_cookie:
                self.send_header("Set-Cookie", upstream.sets_cookie)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            if self.path == "/login":  # a WebUI without Gradio auth
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._record()
            length = int(self.headers.get("Content-Length", "0"))
            left = length
            while left:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    break
                left -= len(chunk)
                upstream.received_bytes += len(chunk)
            if self.path in upstream.held:
                upstream.gate.wait(30)
            body = json.dumps({"received": length - left}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _sse(self) -> None:
            # Event one, then wait until the client has it: a buffering proxy would hold it.
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b'data: {"msg": "estimation"}\n\n')
            self.wfile.flush()
            upstream.gate.wait(30)
            self.wfile.write(b'data: {"msg": "process_completed"}\n\n')
            self.wfile.flush()
            self.close_connection = True

    return Handler


@contextmanager
def run_upstream(tls: ssl.SSLContext | None = None) -> Iterator[Upstream]:
    upstream = Upstream()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream))
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        upstream.scheme = "https"
    upstream.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield upstream
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def run_ws_upstream() -> Iterator[Upstream]:
    """A WebSocket echo that records each handshake's headers."""
    upstream = Upstream()

    def echo(connection: Any) -> None:
        upstream.seen.append(
            {"path": connection.request.path, "headers": dict(connection.request.headers)}
        )
        for message in connection:
            connection.send(message)

    server = ws_serve(echo, "127.0.0.1", 0)
    upstream.port = server.socket.getsockname()[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield upstream
    finally:
        server.shutdown()


def self_signed(tmp: Path) -> tuple[ssl.SSLContext, str]:
    """A server TLS context with a new self-signed certificate, and that certificate (PEM),
    like the one a host makes for its WebUI at deploy."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "webui-host")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "cert.pem").write_text(pem)
    (tmp / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    return context, pem
