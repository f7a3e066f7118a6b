"""The dashboard's instances list with 1,000 instances: queries per page (target: constant,
<= 10) and the median server time of a page (target <= 80 ms)."""

from __future__ import annotations

import os
import time

from harness import median, report, setup_django, workdir

INSTANCES = int(os.environ.get("BENCH_DASHBOARD_INSTANCES", "1000"))
REQUESTS = int(os.environ.get("BENCH_DASHBOARD_REQUESTS", "200"))


def main() -> None:
    setup_django(workdir("dashboard"))
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Membership, Role, Team
    from cloud.ecs import InstanceTypeSpec
    from instances.models import ServiceInstance, Status
    from operations.models import Kind, Operation

    team = Team.objects.create(name="Bench", slug="bench")
    user = get_user_model().objects.create_user("bench", password="bench-password-1")
    Membership.objects.create(user=user, team=team, role=Role.OPERATOR)
    statuses = [Status.RUNNING, Status.STOPPED, Status.RUNNING, Status.DEPLOYING]
    ServiceInstance.objects.bulk_create(
        [
            ServiceInstance(
                team=team,
                name=f"host-{n}",
                region="cn-hangzhou",
                zone="cn-hangzhou-i",
                instance_type="ecs.gn6i-c4g1.xlarge",
                status=statuses[n % 4],
                cloud_instance_id=f"i-bench{n:08d}",
                webui_password="bench-password",
                webui_endpoint=f"http://10.0.{n // 250}.{n % 250}:7860",
            )
            for n in range(INSTANCES)
        ],
        batch_size=500,
    )
    busy = ServiceInstance.objects.filter(status=Status.DEPLOYING)
    Operation.objects.bulk_create(
        [Operation(instance=i, team=team, kind=Kind.DEPLOY, source="api") for i in busy]
    )
    # The catalog as a running system has it cached (the cloud is not part of this figure).
    cache.set(
        "catalog:types:cn-hangzhou",
        {
            "ecs.gn6i-c4g1.xlarge": InstanceTypeSpec(
                "ecs.gn6i-c4g1.xlarge", "ecs.gn6i", 4, 15.0, 1, "NVIDIA T4", 16.0
            )
        },
        None,
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    counts = []
    for path in ("/", "/?page=2", "/?page=20", "/?status=running", "/?q=host-99"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200
        counts.append(len(queries))
    for _ in range(10):
        client.get("/")
    times = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get("/")
        times.append((time.perf_counter() - started) * 1000)
    assert response.status_code == 200
    times.sort()
    report(
        "bench_dashboard",
        {
            "instances": INSTANCES,
            "queries_per_page": "/".join(str(c) for c in counts),
            "median_server_ms": median(times),
            "p95_server_ms": times[int(len(times) * 0.95)],
        },
        f"{connection.vendor}; pages 1, 2, 20, a status filter and a search; server time is "
        "the whole Django request (middleware, queries, template) in process",
    )


if __name__ == "__main__":
    main()
