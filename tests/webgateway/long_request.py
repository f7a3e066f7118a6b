"""A synchronous generation that lasts ten minutes, sent through the gateway process and through
the shipped nginx configuration at once. It starts with the test session and is checked by the
last test (tests/webgateway/test_long_request.py), so it runs alongside the rest of the suite.

The stack is the product's own, started from the Procfile's command lines: ``migrate``,
gunicorn (web, which answers the auth contract) and uvicorn (the gateway), on a SQLite database
and a var directory of their own; nginx with the shipped server block; and, standing for the
host's WebUI, a server that answers ``POST /sdapi/v1/txt2img`` after ``SECONDS`` of silence
(no byte at all: the hardest case for every timeout on the way).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.webgateway import nginx

ROOT = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("NESTOPS_TEST_LONG_REQUEST_SECONDS", "600"))
IMAGE = "aGVsbG8="  # what the stand-in WebUI answers in "images"

SETUP = """
import json, os
from django.contrib.auth import get_user_model
from accounts.models import ApiToken, Membership, Role, Team
from tests.factories import make_instance

team = Team.objects.create(name="Long", slug="long")
user = get_user_model().objects.create_user(username="long", password="long-pw-123")
Membership.objects.create(user=user, team=team, role=Role.OPERATOR)
instance = make_instance(
    team,
    status="running",
    cloud_instance_id="i-long",
    public_ip="127.0.0.1",
    webui_endpoint=os.environ["LONG_UPSTREAM"],
    webui_user="admin",
    webui_password="HostPassword-1",
)
_token, plain = ApiToken.issue(user=user, name="long")
print(json.dumps({"token": plain, "instance": instance.public_id}))
"""

LAST_USE = """
from webgateway.models import WebUIUse
use = WebUIUse.objects.get(user__username="long")
print((use.last_used_at - use.first_used_at).total_seconds(), use.request_count)
"""


def _silent_webui(seconds: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            self.rfile.read(length)
            if self.path != "/sdapi/v1/txt2img":  # the gateway's Gradio login: no Gradio auth
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            time.sleep(seconds)
            body = json.dumps({"images": [IMAGE], "info": "{}"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextmanager
def _process(command: list[str], env: dict[str, str], log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
        try:
            yield
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_for(port: int, what: str, log: Path) -> None:
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", trust_env=False, timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start: {log.read_text()[-2000:]}")


class LongRequests:
    """Runs the stack and the two requests in a thread; ``outcome()`` waits for them."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.results: dict[str, Any] = {}
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="long-request", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def outcome(self) -> dict[str, Any]:
        self._thread.join(SECONDS + 600)
        assert not self._thread.is_alive(), "the long requests did not end"
        if self.error is not None:
            raise self.error
        return self.results

    def _run(self) -> None:
        try:
            self._requests()
        except BaseException as exc:  # reported by the test that checks the outcome
            self.error = exc

    def _env(self, web: int, gateway: int, secret: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DATABASE_URL", "CELERY_", "NESTOPS_", "DJANGO_", "PYTEST"))
        }
        env.update(
            NESTOPS_VAR_DIR=str(self.tmp / "var"),
            NESTOPS_PORT=str(web),
            NESTOPS_GATEWAY_PORT=str(gateway),
            NESTOPS_WEBUI_PUBLIC_PORT=str(gateway),
            NESTOPS_GATEWAY_SECRET=secret,
            NESTOPS_GATEWAY_TOKEN_RATE_PER_MINUTE="0",
        )
        return env

    def _manage(self, env: dict[str, str], *arguments: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *arguments],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {arguments[0]} failed: {done.stderr[-2000:]}")
        return done.stdout

    def _requests(self) -> None:
        webui = _silent_webui(SECONDS)
        web, gateway, secret = nginx.free_port(), nginx.free_port(), secrets.token_urlsafe(32)
        env = {
            **self._env(web, gateway, secret),
            "LONG_UPSTREAM": f"http://127.0.0.1:{webui.server_port}",
        }
        self._manage(env, "migrate", "--noinput")
        created = json.loads(self._manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])
        bin_dir = Path(sys.executable).parent
        with ExitStack() as stack:
            web_log, gateway_log = self.tmp / "web.log", self.tmp / "gateway.log"
            stack.enter_context(
                _process(
                    [
                        str(bin_dir / "gunicorn"),
                        "nestops.wsgi",
                        "--bind",
                        f"127.0.0.1:{web}",
                        "--workers",
                        "1",
                        "--threads",
                        "4",
                        "--log-level",
                        "warning",
                    ],
                    env,
                    web_log,
                )
            )
            stack.enter_context(
                _process(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "webgateway.proxy:app",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(gateway),
                        "--no-access-log",
                        "--ws",
                        "websockets-sansio",
                        "--log-level",
                        "warning",
                    ],
                    env,
                    gateway_log,
                )
            )
            _wait_for(web, "web", web_log)
            _wait_for(gateway, "the gateway", gateway_log)
            ports = {"gateway": gateway}
            if nginx.available():
                nginx_dir = self.tmp / "nginx"
                nginx_dir.mkdir()
                ports["nginx"] = stack.enter_context(
                    nginx.run_nginx(nginx_dir, django=f"127.0.0.1:{web}", secret=secret)
                )
            threads = [
                threading.Thread(target=self._generate, args=(way, port, created), daemon=True)
                for way, port in ports.items()
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(SECONDS + 300)
            printed = self._manage(env, "shell", "-c", LAST_USE).strip().splitlines()
            used_for, count = printed[-1].split()
            self.results["used_for"] = float(used_for)
            self.results["request_count"] = int(count)
        webui.shutdown()
        shutil.rmtree(self.tmp, ignore_errors=True)  # kept when something failed

    def _generate(self, way: str, port: int, created: dict[str, str]) -> None:
        # Monotonic: other tests of the session travel in time (time-machine patches the wall
        # clock of the whole process).
        started = time.monotonic()
        try:
            answer = httpx.post(
                f"http://127.0.0.1:{port}/sdapi/v1/txt2img",
                headers={
                    "Host": f"{created['instance']}.localhost:{port}",
                    "Authorization": f"Bearer {created['token']}",
                },
                json={"prompt": "a lighthouse", "steps": 150},
                trust_env=False,
                timeout=httpx.Timeout(SECONDS + 120, connect=10),
            )
            outcome: Any = (answer.status_code, answer.text[:500])
        except httpx.HTTPError as exc:
            outcome = ("error", repr(exc))
        self.results[way] = {
            "answer": outcome,
            "seconds": time.monotonic() - started,
        }
