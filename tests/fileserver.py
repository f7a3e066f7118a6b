"""A small HTTP file server for tests and benchmarks: what a model site looks like to a host.

It serves files from a folder on 127.0.0.1 in a thread, answers HEAD and byte ranges (so
``curl -C -`` resumes), can slow a file down (to cancel a download midway), can ask for a
bearer token, and records the requests it saw (to check what reached it).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")
CHUNK = 256 * 1024


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class FileServer:
    folder: Path
    port: int = 0
    # path -> bytes per second (a slow file), or the token a path needs.
    slow: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    # path -> a Content-Length the server claims on HEAD (a file too big to fetch).
    claimed_sizes: dict[str, int] = field(default_factory=dict)
    # Paths served without announcing their size (no HEAD, no Content-Length).
    unannounced: set[str] = field(default_factory=set)
    requests: list[Seen] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def add(self, name: str, data: bytes) -> str:
        (self.folder / name).write_bytes(data)
        return self.url(name)


def _handler(server: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _file(self) -> Path | None:
            name = self.path.split("?", 1)[0].lstrip("/")
            path = (server.folder / name).resolve()
            if server.folder.resolve() not in path.parents or not path.is_file():
                return None
            return path

        def _refuse(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _allowed(self) -> bool:
            needed = server.tokens.get(self.path.split("?", 1)[0].lstrip("/"))
            if needed and self.headers.get("Authorization") != f"Bearer {needed}":
                self._refuse(401)
                return False
            return True

        def do_HEAD(self) -> None:
            server.requests.append(Seen("HEAD", self.path, dict(self.headers)))
            if not self._allowed():
                return
            name = self.path.split("?", 1)[0].lstrip("/")
            path = self._file()
            if path is None:
                return self._refuse(404)
            if name in server.unannounced:
                return self._refuse(405)
            self.send_response(200)
            self.send_header(
                "Content-Length", str(server.claimed_sizes.get(name, path.stat().st_size))
            )
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()

        def do_GET(self) -> None:
            server.requests.append(Seen("GET", self.path, dict(self.headers)))
            if not self._allowed():
                return
            path = self._file()
            if path is None:
                return self._refuse(404)
            size = path.stat().st_size
            start, end = 0, size - 1
            match = RANGE.match(self.headers.get("Range", ""))
            if match:
                start = int(match.group(1))
                end = int(match.group(2)) if match.group(2) else size - 1
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            else:
                self.send_response(200)
            if path.name in server.unannounced:
                # The body ends when the connection closes, as with a streaming server.
                self.close_connection = True
                self.send_header("Connection", "close")
            else:
                self.send_header("Content-Length", str(end - start + 1))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            rate = server.slow.get(path.name)
            with path.open("rb") as handle:
                handle.seek(start)
                left = end - start + 1
                while left > 0:
                    chunk = handle.read(min(CHUNK if rate is None else max(rate // 10, 1), left))
                    if not chunk:
                        break
                    try:
                        self.wfile.write(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        return
                    left -= len(chunk)
                    if rate is not None:
                        time.sleep(len(chunk) / rate)

    return Handler


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """Runs ``handler`` on 127.0.0.1 (a free port) in a thread; yields the port."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name=handler.__name__, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def serve(folder: Path) -> Iterator[FileServer]:
    """Serves ``folder`` on 127.0.0.1 (a free port) until the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    server = FileServer(folder=folder)
    with serving(_handler(server)) as port:
        server.port = port
        yield server
