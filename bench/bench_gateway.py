"""The WebUI gateway (webgateway/proxy.py under uvicorn, Django's /gateway/auth under gunicorn):
latency it adds to a proxied request (median, p99, as a ratio to the same request sent
directly, measured in one run), WebSocket and SSE messages per second through it, memory of
1,000 open idle WebSockets, auth decisions per second with and without the gateway's cache."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from harness import ROOT, report, setup_django, workdir

REQUESTS = int(os.environ.get("BENCH_GATEWAY_REQUESTS", "500"))
MESSAGES = int(os.environ.get("BENCH_GATEWAY_MESSAGES", "5000"))
IDLE_SOCKETS = int(os.environ.get("BENCH_GATEWAY_IDLE_SOCKETS", "1000"))
SSE_EVENTS = 20_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def upstream_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The stand-in WebUI: a small JSON answer, an SSE stream, a WebSocket echo."""
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            await send({"type": "websocket.send", "text": message.get("text") or ""})
    if scope["type"] != "http":
        return
    if scope["path"] == "/queue/data":
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        event = b'data: {"msg": "progress"}\n\n'
        for _ in range(SSE_EVENTS // 100):
            await send({"type": "http.response.body", "body": event * 100, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    body = b'{"progress": 0.5, "state": {"job_count": 0}}'
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def start_upstream(port: int) -> None:
    import uvicorn

    config = uvicorn.Config(
        upstream_app, host="127.0.0.1", port=port, log_level="error", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)


def wait_for(port: int) -> None:
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def latencies(client: Any, url: str, headers: dict[str, str]) -> list[float]:
    for _ in range(30):
        (await client.get(url, headers=headers)).raise_for_status()
    found = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        (await client.get(url, headers=headers)).raise_for_status()
        found.append((time.perf_counter() - started) * 1000)
    return found


def _ws(url: str, headers: dict[str, str], origin: str | None, **kwargs: Any) -> Any:
    """A WebSocket to ``url`` (``si-xxxx.localhost`` needs no DNS: it connects to loopback)."""
    from websockets.asyncio.client import connect

    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    return connect(
        url,
        additional_headers=headers,
        origin=origin,
        proxy=None,
        host="127.0.0.1",
        port=port,
        **kwargs,
    )


async def ws_rate(url: str, headers: dict[str, str], origin: str | None) -> float:
    async with _ws(url, headers, origin) as ws:
        started = time.perf_counter()
        for _ in range(MESSAGES):
            await ws.send("x" * 64)
            await ws.recv()
        return MESSAGES / (time.perf_counter() - started)


async def sse_rate(client: Any, url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    count = 0
    async with client.stream("GET", url, headers=headers) as stream:
        async for line in stream.aiter_lines():
            count += line.startswith("data: ")
    assert count == SSE_EVENTS, count
    return count / (time.perf_counter() - started)


async def idle_sockets(url: str, headers: dict[str, str], origin: str, pid: int) -> float:
    before = rss_mib(pid)
    sockets = []
    semaphore = asyncio.Semaphore(20)

    async def open_one() -> None:
        async with semaphore:
            sockets.append(await _ws(url, headers, origin, ping_interval=None))

    await asyncio.gather(*(open_one() for _ in range(IDLE_SOCKETS)))
    await asyncio.sleep(1)
    after = rss_mib(pid)
    for ws in sockets:
        await ws.send("still here")
        assert await ws.recv() == "still here"
    await asyncio.gather(*(ws.close() for ws in sockets))
    return after - before


async def auth_rate(client: Any, url: str, headers: dict[str, str], seconds: float = 3.0) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            (await client.get(url, headers=headers)).raise_for_status()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(8)))
    return done / (time.perf_counter() - started)


def prepare() -> tuple[Any, str, str, int]:
    from django.contrib.auth import get_user_model

    from accounts.models import ApiToken, Membership, Role, Team
    from instances.models import ServiceInstance, Status
    from webgateway.services import exchange_handoff, issue_handoff

    team = Team.objects.create(name="Bench", slug="bench")
    user = get_user_model().objects.create_user("bench", password="bench-password-1")
    Membership.objects.create(user=user, team=team, role=Role.OPERATOR)
    upstream_port = free_port()
    start_upstream(upstream_port)
    instance = ServiceInstance.objects.create(
        team=team,
        name="bench",
        region="cn-hangzhou",
        zone="cn-hangzhou-i",
        instance_type="ecs.gn6i-c4g1.xlarge",
        status=Status.RUNNING,
        public_ip="127.0.0.1",
        webui_endpoint=f"http://127.0.0.1:{upstream_port}",
        webui_password="bench-webui",
    )
    code = issue_handoff(user=user, instance=instance)
    cookie, _ = exchange_handoff(
        code=code, instance_public_id=instance.public_id, remote_addr=None, user_agent=""
    )
    _token, plain = ApiToken.issue(user=user, name="bench")
    return instance, cookie, plain, upstream_port


def main() -> None:
    folder = workdir("gateway")
    os.environ["NESTOPS_GATEWAY_TOKEN_RATE_PER_MINUTE"] = "0"
    setup_django(folder)
    from django.conf import settings

    instance, cookie, token, upstream_port = prepare()
    web_port, gateway_port = free_port(), free_port()
    env = {
        **os.environ,
        "NESTOPS_SECRET_KEY": settings.SECRET_KEY,
        "NESTOPS_GATEWAY_AUTH_URL": f"http://127.0.0.1:{web_port}/gateway/",
        "NESTOPS_LOG_LEVEL": "WARNING",
    }
    web = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "nestops.wsgi", "--bind", f"127.0.0.1:{web_port}"),
            *("--workers", "2", "--threads", "4", "--log-level", "warning"),
        ],
        cwd=ROOT,
        env=env,
    )
    gateway = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "webgateway.proxy:app", "--port", str(gateway_port)),
            *("--ws", "websockets-sansio", "--log-level", "warning", "--no-access-log"),
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_for(web_port)
        wait_for(gateway_port)
        figures = asyncio.run(run(instance, cookie, token, upstream_port, gateway_port, gateway))
        figures["auth_decisions_per_s_uncached"] = round(
            asyncio.run(uncached_auth(instance, cookie, web_port, settings)), 0
        )
    finally:
        for process in (gateway, web):
            process.terminate()
            process.wait(timeout=10)
    report("bench_gateway", figures)


async def run(
    instance: Any, cookie: str, token: str, upstream_port: int, gateway_port: int, gateway: Any
) -> dict[str, Any]:
    import httpx

    host = f"{instance.public_id}.localhost:{gateway_port}"
    origin = f"http://{host}"
    session = {"Host": host, "Cookie": f"nestops_webui={cookie}"}
    bearer = {"Host": host, "Authorization": f"Bearer {token}"}
    direct_url = f"http://127.0.0.1:{upstream_port}/sdapi/v1/progress"
    via_url = f"http://127.0.0.1:{gateway_port}/sdapi/v1/progress"
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(trust_env=False, timeout=60, limits=limits) as client:
        direct = await latencies(client, direct_url, {})
        cached = await latencies(client, via_url, session)
        uncached = await latencies(client, via_url, bearer)
        sse_direct = await sse_rate(
            client, direct_url.replace("/sdapi/v1/progress", "/queue/data"), {}
        )
        sse_via = await sse_rate(
            client, via_url.replace("/sdapi/v1/progress", "/queue/data"), session
        )
        cached_rate = await auth_rate(client, via_url, session)
    ws_direct = await ws_rate(f"ws://127.0.0.1:{upstream_port}/queue/join", {}, None)
    ws_via_url = f"ws://{host}/queue/join"
    cookie_only = {"Cookie": session["Cookie"]}
    ws_via = await ws_rate(ws_via_url, cookie_only, origin)
    idle_mib = await idle_sockets(ws_via_url, cookie_only, origin, gateway.pid)
    med = percentile(direct, 0.5)
    return {
        "direct_median_ms": round(med, 2),
        "direct_p99_ms": round(percentile(direct, 0.99), 2),
        "gateway_median_ms_session_cached": round(percentile(cached, 0.5), 2),
        "gateway_p99_ms_session_cached": round(percentile(cached, 0.99), 2),
        "gateway_median_ratio_session_cached": round(percentile(cached, 0.5) / med, 1),
        "gateway_p99_ratio_session_cached": round(
            percentile(cached, 0.99) / percentile(direct, 0.99), 1
        ),
        "gateway_median_ms_token_uncached": round(percentile(uncached, 0.5), 2),
        "gateway_p99_ms_token_uncached": round(percentile(uncached, 0.99), 2),
        "ws_round_trips_per_s_direct": round(ws_direct),
        "ws_round_trips_per_s_gateway": round(ws_via),
        "sse_events_per_s_direct": round(sse_direct),
        "sse_events_per_s_gateway": round(sse_via),
        "idle_websockets": IDLE_SOCKETS,
        "idle_websockets_gateway_rss_mib": round(idle_mib, 1),
        "gateway_requests_per_s_session_cached": round(cached_rate),
        "gateway_rss_mib_at_end": round(rss_mib(gateway.pid), 1),
    }


async def uncached_auth(instance: Any, cookie: str, web_port: int, settings: Any) -> float:
    import httpx

    headers = {
        "X-Nestops-Gateway-Secret": settings.NESTOPS_GATEWAY_SECRET,
        "X-Forwarded-Host": f"{instance.public_id}.localhost:8001",
        "X-Original-Method": "GET",
        "X-Original-URI": "/sdapi/v1/progress",
        "Cookie": f"nestops_webui={cookie}",
    }
    async with httpx.AsyncClient(trust_env=False, timeout=60) as client:
        return await auth_rate(client, f"http://127.0.0.1:{web_port}/gateway/auth", headers)


if __name__ == "__main__":
    main()
