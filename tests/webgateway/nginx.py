"""Debian's nginx running the shipped configuration (deploy/nginx/nestops-gateway.conf)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "nestops-gateway.conf"
MAIN = """{user}worker_processes 1;
error_log {tmp}/error.log warn;
pid {tmp}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/nestops-gateway.conf;
}}
"""


def available() -> bool:
    return Path(NGINX).exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def run_nginx(tmp: Path, *, django: str, secret: str) -> Iterator[int]:
    """nginx with the shipped server block on a free port; yields the port."""
    port = free_port()
    values = {
        "@@LISTEN@@": f"127.0.0.1:{port}",
        "@@DOMAIN_REGEX@@": r"localhost(:\d+)?",
        "@@DJANGO@@": django,
        "@@SECRET@@": secret,
        "@@CACHE_DIR@@": str(tmp / "auth-cache"),
    }
    text = SHIPPED.read_text()
    for key, value in values.items():
        text = text.replace(key, value)
    (tmp / "nestops-gateway.conf").write_text(text)
    # As root, workers would run as nobody and could not write the test's directories.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    (tmp / "nginx.conf").write_text(MAIN.format(tmp=tmp, user=user))
    process = subprocess.Popen(
        [NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(500):
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode())
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.01)
        yield port
    finally:
        process.terminate()
        process.wait(10)
