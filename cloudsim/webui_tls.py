"""The simulated WebUI of a host that serves TLS (``--tls-keyfile``/``--tls-certfile`` in its
``webui.env``), with the key and certificate that really are in its sandbox.

All simulated hosts share the simulator's address, and a TLS server presents its certificate
before it sees a path, so each host gets its own listener: a port the simulator picks once per
host (kept in the sandbox's ``run/webui-tls.port`` and taken again after a restart when free).
Host scripts see it as ``NESTOPS_WEBUI_TLS_PORT``: it stands for the WebUI port of a real host.
A connection is served only while the host's WebUI asks for TLS and its files are readable;
otherwise it is closed at once, as if nothing listened. Behind the handshake the requests go to
the same simulated WebUI as ``/hosts/<instance-id>/...`` on the plain port.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from cloudsim.httpd import ThreadedServer, WsgiApp

if TYPE_CHECKING:
    from cloudsim.simulator import Simulator
    from cloudsim.websocket import WebSocketChannel

PORT_FILE = PurePosixPath("run/webui-tls.port")


class _HostApplication:
    """The simulator's application seen from one host's port: every path is that host's."""

    def __init__(self, app: Any, instance_id: str) -> None:
        self.app = app
        self.prefix = f"/hosts/{instance_id}"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ["PATH_INFO"] = self.prefix + (environ.get("PATH_INFO") or "/")
        environ["wsgi.url_scheme"] = "https"
        return self.app(environ, start_response)

    def websocket(self, target: str, headers: dict[str, str], channel: WebSocketChannel) -> None:
        self.app.websocket(self.prefix + target, headers, channel, tls=True)


class _TlsServer(ThreadedServer):
    def __init__(self, address: tuple[str, int], app: WsgiApp, context: Any) -> None:
        super().__init__(address, app)
        self.context = context

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The handshake runs in the connection's thread, never in the accept loop.
        context = self.context()
        if context is None:
            return
        try:
            wrapped = context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            super().finish_request(wrapped, client_address)
        finally:
            with contextlib.suppress(OSError):
                wrapped.close()


class TlsListeners:
    """One TLS listener per simulated host, made when a script first runs on the host."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._lock = threading.Lock()
        self._servers: dict[str, _TlsServer] = {}
        self._contexts: dict[str, tuple[tuple[Any, ...], ssl.SSLContext]] = {}

    def port(self, instance_id: str, app: Any) -> int:
        """The host's TLS port (its listener starts now if it has none yet)."""
        with self._lock:
            server = self._servers.get(instance_id)
            if server is None:
                server = self._start(instance_id, app)
                self._servers[instance_id] = server
            return server.server_port

    def known_port(self, instance_id: str) -> int | None:
        """The host's TLS port if its listener runs (for the control API)."""
        with self._lock:
            server = self._servers.get(instance_id)
        return server.server_port if server is not None else None

    def _start(self, instance_id: str, app: Any) -> _TlsServer:
        port_file = self.sim.sandboxes.path(instance_id) / PORT_FILE
        try:
            wanted = int(port_file.read_text().strip())
        except (OSError, ValueError):
            wanted = 0
        host = self.sim.config.host
        wrapped = _HostApplication(app, instance_id)
        try:
            server = _TlsServer((host, wanted), wrapped, lambda: self.context(instance_id))
        except OSError:  # the port is taken now: another one
            server = _TlsServer((host, 0), wrapped, lambda: self.context(instance_id))
        with contextlib.suppress(OSError):
            port_file.parent.mkdir(parents=True, exist_ok=True)
            port_file.write_text(f"{server.server_port}\n")
        thread = threading.Thread(
            target=server.serve_forever, name=f"cloudsim-tls-{instance_id}", daemon=True
        )
        thread.start()
        return server

    def context(self, instance_id: str) -> ssl.SSLContext | None:
        """The host's server context from its sandbox files, or None while the WebUI does not
        serve TLS (no such options, unit inactive, files missing or unreadable)."""
        sandbox = self.sim.sandboxes.path(instance_id)
        if self.sim.sandboxes.unit_state(instance_id) != "active":
            return None
        options = self.sim.webui.files.launch_options(sandbox)
        if not (options.tls_keyfile and options.tls_certfile):
            return None
        key = _in_sandbox(sandbox, options.tls_keyfile)
        cert = _in_sandbox(sandbox, options.tls_certfile)
        if key is None or cert is None:
            return None
        try:
            stamp = tuple((p, p.stat().st_mtime_ns, p.stat().st_size) for p in (key, cert))
        except OSError:
            return None
        with self._lock:
            cached = self._contexts.get(instance_id)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError):
            return None
        with self._lock:
            self._contexts[instance_id] = (stamp, context)
        return context

    def shutdown(self) -> None:
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.shutdown()
            server.server_close()


def _in_sandbox(sandbox: Path, host_path: str) -> Path | None:
    """The sandbox file a host path names, if it stays inside the sandbox."""
    path = (sandbox / host_path.lstrip("/")).resolve()
    root = sandbox.resolve()
    if path != root and root not in path.parents:
        return None
    return path if path.is_file() else None
