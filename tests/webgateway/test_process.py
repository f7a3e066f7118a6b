"""The gateway runs as its own process, as the Procfile and docker-compose start it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def test_the_gateway_process_starts_from_its_command_line(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["NESTOPS_VAR_DIR"] = str(tmp_path)
    env["NESTOPS_GATEWAY_AUTH_URL"] = "http://127.0.0.1:9/gateway/"  # nothing listens
    command = [sys.executable, "-m", "uvicorn", "webgateway.proxy:app", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            assert process.poll() is None, process.stderr.read().decode()
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/", headers={"Host": "evil.example"}, trust_env=False
                )
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert answer.status_code == 400
        assert answer.json()["code"] == "bad_host"
        # A well-formed instance address without credentials: Django (not running here) is
        # asked and does not answer, which is a clear 503, never a crash.
        down = httpx.get(
            f"http://127.0.0.1:{port}/",
            headers={"Host": f"si-aaaaaaaaaaaa.localhost:{port}"},
            trust_env=False,
        )
        assert down.status_code == 503
        assert down.json()["code"] == "auth_unavailable"
    finally:
        process.terminate()
        process.wait(10)
