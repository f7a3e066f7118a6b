"""GET /api/v1/instances/ (a page of 50) with 10,000 instances under gunicorn: queries per
request (target: constant, <= 6) and median latency (target <= 30 ms)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

from harness import ROOT, median, report, setup_django, workdir

INSTANCES = int(os.environ.get("BENCH_API_INSTANCES", "10000"))
REQUESTS = int(os.environ.get("BENCH_API_REQUESTS", "300"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    folder = workdir("api")
    setup_django(folder)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import ApiToken, Membership, Role, Team
    from instances.models import ServiceInstance, Status
    from operations.models import Kind, Operation

    team = Team.objects.create(name="Bench", slug="bench")
    user = get_user_model().objects.create_user("bench", password="bench-password-1")
    Membership.objects.create(user=user, team=team, role=Role.OPERATOR)
    ServiceInstance.objects.bulk_create(
        [
            ServiceInstance(
                team=team,
                name=f"host-{n}",
                region="cn-hangzhou",
                zone="cn-hangzhou-i",
                instance_type="ecs.gn6i-c4g1.xlarge",
                status=Status.RUNNING,
                cloud_instance_id=f"i-bench{n:08d}",
                webui_password="bench-password",
                created_by=user,
            )
            for n in range(INSTANCES)
        ],
        batch_size=1000,
    )
    # Some hosts have an operation under way, shown in the list.
    busy = list(ServiceInstance.objects.order_by("-created_at")[:20])
    Operation.objects.bulk_create(
        [Operation(instance=i, team=team, kind=Kind.STOP, source="api") for i in busy]
    )
    _token, plain = ApiToken.issue(user=user, name="bench")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum would have done by now
            cursor.execute("ANALYZE")

    client = Client(HTTP_AUTHORIZATION=f"Bearer {plain}", HTTP_HOST="127.0.0.1")
    counts = []
    for page in (1, 2, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/v1/instances/?page={page}")
        assert response.status_code == 200, response.content[:300]
        counts.append(len(queries))

    port = free_port()
    env = {**os.environ, "NESTOPS_LOG_LEVEL": "WARNING", "NESTOPS_SECRET_KEY": settings.SECRET_KEY}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "nestops.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "1",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/v1/instances/"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {plain}"})
        for _ in range(100):
            try:
                opener.open(request, timeout=5).read()
                break
            except OSError:
                time.sleep(0.2)
        for _ in range(20):  # warm up both workers
            opener.open(request, timeout=5).read()
        latencies = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            body = opener.open(request, timeout=5).read()
            latencies.append((time.perf_counter() - started) * 1000)
        assert b'"count":%d' % INSTANCES in body
    finally:
        server.terminate()
        server.wait(timeout=10)
    latencies.sort()
    report(
        "bench_api_list",
        {
            "instances": INSTANCES,
            "queries_per_request_pages_1_2_100": "/".join(str(c) for c in counts),
            "median_latency_ms": median(latencies),
            "p95_latency_ms": latencies[int(len(latencies) * 0.95)],
            "requests": REQUESTS,
        },
        f"gunicorn 2 sync workers, {connection.vendor}, token auth, page size 50, "
        "one client at a time",
    )


if __name__ == "__main__":
    main()
