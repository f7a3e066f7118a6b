"""1,000 stop/start operations through 2 Celery worker processes against cloudsim (no added
latency): operations per second (target >= 50) and the median enqueue-to-done time.

Throughput: 500 stops (of running hosts) and 500 starts (of stopped hosts) are queued while no
worker runs; the clock runs from the moment both workers answer a ping until the last
operation ends. Latency: right after, while the inventory reads that follow the 500 starts may
still be under way, 100 more operations are requested one at a time, 10 a second, and each
one's enqueue-to-done time is taken from its own timestamps. All work: the time from the same
start until those reads are done too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from harness import (
    ROOT,
    local_postgres,
    local_redis,
    median,
    report,
    setup_django,
    start_cloudsim,
    workdir,
)

from accounts.requester import Requester

HOSTS = int(os.environ.get("BENCH_OPERATION_HOSTS", "1000"))
THREADS = int(os.environ.get("BENCH_WORKER_THREADS", "8"))
# Workers in several processes need a server database and broker: PostgreSQL and Redis on
# this machine when they answer (BENCH_DATABASE_URL / BENCH_BROKER_URL choose others).
if "BENCH_DATABASE_URL" not in os.environ and (found := local_postgres()):
    os.environ["BENCH_DATABASE_URL"] = found
BROKER = os.environ.get("BENCH_BROKER_URL") or local_redis() or "filesystem://"


def wait_all_finished(operation_ids: list[int], timeout: float) -> None:
    from operations.models import TERMINAL_STATUSES, Operation

    deadline = time.monotonic() + timeout
    left = len(operation_ids)
    while time.monotonic() < deadline:
        left = (
            Operation.objects.filter(pk__in=operation_ids)
            .exclude(status__in=TERMINAL_STATUSES)
            .count()
        )
        if not left:
            return
        time.sleep(0.05)
    raise RuntimeError(f"{left} operations did not finish in {timeout}s")


def main() -> None:
    folder = workdir("operations")
    os.environ["CELERY_BROKER_URL"] = BROKER
    setup_django(folder)
    from django.conf import settings
    from django.db import connection
    from fleet import REGION, build_fleet

    from cloud import ecs
    from instances.models import ServiceInstance, Status
    from nestops.celery import app
    from operations.models import Kind, Operation, OperationStatus
    from operations.services import request_operation

    sim = start_cloudsim(folder / "cloudsim", speed=1000)
    app.control.purge()
    build_fleet(sim, HOSTS)
    instances = list(ServiceInstance.objects.order_by("pk"))
    to_start = instances[: HOSTS // 2]
    for instance in to_start:
        ecs.stop_instance(REGION, instance.cloud_instance_id, stopped_mode="StopCharging")
    sim.advance(60)
    ServiceInstance.objects.filter(pk__in=[i.pk for i in to_start]).update(
        status=Status.STOPPED, stopped_mode="StopCharging", public_ip=None
    )
    queued = []
    submit_started = time.perf_counter()
    for instance in instances:
        instance.refresh_from_db()
        kind = Kind.START if instance.status == Status.STOPPED else Kind.STOP
        queued.append(
            request_operation(instance=instance, kind=kind, requester=Requester(source="api"))[0].pk
        )
    submit_ms = (time.perf_counter() - submit_started) * 1000 / len(queued)

    env = {
        **os.environ,
        "NESTOPS_SIM_ENDPOINT": sim.endpoint,
        "NESTOPS_SECRET_KEY": settings.SECRET_KEY,
        "NESTOPS_POLL_SECONDS": "0.05",
        "NESTOPS_LOG_LEVEL": "WARNING",
        "NESTOPS_WEBUI_READY_TIMEOUT_SECONDS": "30",
    }
    # Two worker processes; operations mostly wait on the cloud and the database, so each
    # process runs its tasks in a pool of threads.
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "nestops",
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                str(THREADS),
                "--hostname",
                f"bench{n}@%h",
                "--loglevel",
                "WARNING",
                "--without-heartbeat",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
        )
        for n in range(2)
    ]
    try:
        while len(app.control.ping(timeout=0.5) or []) < 2:
            time.sleep(0.1)
        started = time.perf_counter()
        wait_all_finished(queued, timeout=900)
        elapsed = time.perf_counter() - started

        latency_ids = []
        for instance in ServiceInstance.objects.order_by("pk")[:100]:
            kind = Kind.START if instance.status == Status.STOPPED else Kind.STOP
            latency_ids.append(
                request_operation(instance=instance, kind=kind, requester=Requester(source="api"))[
                    0
                ].pk
            )
            time.sleep(0.1)
        wait_all_finished(latency_ids, timeout=300)
        # The inventory reads that follow the starts (system work) are part of the same work:
        # the time until they are done too is taken from the same start.
        reads = list(
            Operation.objects.filter(kind=Kind.REFRESH_INVENTORY).values_list("pk", flat=True)
        )
        wait_all_finished(reads, timeout=900)
        all_work = time.perf_counter() - started

        operations = list(Operation.objects.filter(pk__in=queued + latency_ids))
        failed = [o for o in operations if o.status != OperationStatus.SUCCEEDED]
        latencies = [
            (o.finished_at - o.created_at).total_seconds()
            for o in operations
            if o.pk in set(latency_ids)
        ]
        report(
            "bench_operations",
            {
                "operations": len(queued),
                "failed": len(failed),
                "operations_per_second": len(queued) / elapsed,
                "wall_seconds": elapsed,
                "median_enqueue_to_done_seconds": median(latencies),
                "inventory_reads": len(reads),
                "all_work_seconds": all_work,
                "request_operation_ms": submit_ms,
            },
            f"{connection.vendor}, broker {BROKER.split('://')[0]}, 2 worker processes with "
            f"{THREADS} threads each, cloudsim at speed 1000 (a state change takes 5 ms), poll "
            "0.05 s",
        )
        if failed:
            print("first failure:", failed[0].error_code, failed[0].error_message)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        sim.stop()


if __name__ == "__main__":
    main()
