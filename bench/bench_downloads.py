"""Model downloads through OOS into simulated hosts: throughput, overhead, concurrency.

A 200 MB file (BENCH_DOWNLOAD_MB) is served by a local HTTP server on 127.0.0.1. Figures:

- ``curl_seconds``: plain ``curl -o`` of the file on this machine (the floor);
- ``download_seconds`` / ``download_mb_per_s``: one ``download_model`` operation, from the
  request to the operation's success (HEAD, free-space check, transfer, SHA-256, move,
  WebUI refresh, and the control plane's polling), median of 3;
- ``overhead_seconds`` / ``overhead_ratio``: the operation against plain curl;
- ``ten_hosts_seconds`` / ``ten_hosts_vs_one``: 10 downloads of the file to 10 hosts requested
  together, until the last one succeeds, against the time of one.

Operations run in this process through ``operations.runner.advance`` (as a worker would call
it), with a poll interval of 0.05 s; cloudsim runs the real download_model.sh with bash.
"""

from __future__ import annotations

import os
import subprocess
import time

from harness import ROOT, median, report, setup_django, start_cloudsim, workdir

from accounts.requester import Requester

MEGABYTES = int(os.environ.get("BENCH_DOWNLOAD_MB", "200"))
HOSTS = 10
SLOW_MEGABYTES = 50
SLOW_RATE = 10 * 2**20  # bytes per second and connection


def run_until_done(operation_ids: list[int], timeout: float = 600) -> None:
    """Advances the operations whenever they are due, as a pool of workers would."""
    from operations import runner
    from operations.models import TERMINAL_STATUSES, Operation

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        active = list(
            Operation.objects.filter(pk__in=operation_ids)
            .exclude(status__in=TERMINAL_STATUSES)
            .values_list("pk", flat=True)
        )
        if not active:
            return
        for operation_id in active:
            runner.advance(operation_id)
        time.sleep(0.01)
    raise RuntimeError("the downloads did not finish in time")


def main() -> None:
    folder = workdir("downloads")
    setup_django(folder)
    from django.conf import settings
    from fleet import REGION, build_fleet

    from accounts.requester import Source
    from cloud import oos
    from hostfiles import services as host_files
    from instances.models import ServiceInstance
    from operations import scripts
    from operations.models import Operation, OperationStatus
    from tests.fileserver import serve

    settings.NESTOPS_POLL_SECONDS = 0.05
    settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS = True
    sim = start_cloudsim(folder / "cloudsim", speed=1000)
    try:
        _team, cloud_ids = build_fleet(sim, HOSTS)
        configure = oos.start_run_command(
            REGION,
            cloud_ids,
            scripts.render(
                "configure_webui",
                {
                    "WEBUI_USER": "admin",
                    "WEBUI_PASSWORD": "bench-password",
                    "PORT": 7860,
                    "TIMEOUT": 30,
                },
            ),
            client_token="bench-configure",
        )
        while not (oos.get_execution(REGION, configure.execution_id) or configure).finished:
            time.sleep(0.05)
        instances = list(ServiceInstance.objects.order_by("pk"))

        with serve(folder / "served") as files:
            data_path = folder / "served" / "bench-model.safetensors"
            with data_path.open("wb") as handle:
                for _ in range(MEGABYTES):
                    handle.write(os.urandom(1024 * 1024))
            url = files.url(data_path.name)

            curl_runs = []
            for n in range(3):
                started = time.perf_counter()
                subprocess.run(
                    ["curl", "-fsS", "-o", str(folder / f"plain-{n}.bin"), url], check=True
                )
                curl_runs.append(time.perf_counter() - started)
                (folder / f"plain-{n}.bin").unlink()

            def download(instance: ServiceInstance, name: str) -> Operation:
                operation, _created = host_files.request_download(
                    instance=instance,
                    url=url,
                    kind="checkpoint",
                    filename=name,
                    requester=Requester.policy(Source.API),
                )
                return operation

            single_runs = []
            for n in range(3):
                started = time.perf_counter()
                operation = download(instances[0], f"single-{n}.safetensors")
                run_until_done([operation.pk])
                single_runs.append(time.perf_counter() - started)
                operation.refresh_from_db()
                assert operation.status == OperationStatus.SUCCEEDED, operation.log

            started = time.perf_counter()
            together = [download(instance, "together.safetensors") for instance in instances]
            run_until_done([o.pk for o in together])
            ten_hosts = time.perf_counter() - started
            failed = Operation.objects.filter(pk__in=[o.pk for o in together]).exclude(
                status=OperationStatus.SUCCEEDED
            )
            assert not failed.exists(), failed.first().log

            # Downloads from the internet are bound by the network, not by this machine: the
            # same comparison with a smaller file served at 10 MB/s per connection.
            slow_path = folder / "served" / "bench-slow.safetensors"
            with slow_path.open("wb") as handle:
                for _ in range(SLOW_MEGABYTES):
                    handle.write(os.urandom(1024 * 1024))
            files.slow[slow_path.name] = SLOW_RATE
            url = files.url(slow_path.name)
            started = time.perf_counter()
            operation = download(instances[0], "slow-single.safetensors")
            run_until_done([operation.pk])
            slow_single = time.perf_counter() - started
            started = time.perf_counter()
            together = [download(instance, "slow-together.safetensors") for instance in instances]
            run_until_done([o.pk for o in together])
            slow_ten = time.perf_counter() - started
            failed = Operation.objects.filter(pk__in=[o.pk for o in together]).exclude(
                status=OperationStatus.SUCCEEDED
            )
            assert not failed.exists(), failed.first().log
    finally:
        sim.stop()

    single = median(single_runs)
    curl = median(curl_runs)
    report(
        "bench_downloads",
        {
            "file_mb": MEGABYTES,
            "curl_seconds": curl,
            "curl_mb_per_s": MEGABYTES / curl,
            "download_seconds": single,
            "download_mb_per_s": MEGABYTES / single,
            "overhead_seconds": single - curl,
            "overhead_ratio": single / curl,
            "ten_hosts_seconds": ten_hosts,
            "ten_hosts_vs_one": ten_hosts / single,
            "network_bound_file_mb": SLOW_MEGABYTES,
            "network_bound_one_seconds": slow_single,
            "network_bound_ten_hosts_seconds": slow_ten,
            "network_bound_ten_vs_one": slow_ten / slow_single,
        },
        f"{MEGABYTES} MB from a local HTTP server (127.0.0.1), medians of 3; the operation "
        "includes HEAD, free-space check, SHA-256, move, WebUI refresh and polling every 0.05 s; "
        f"the {HOSTS} hosts share this machine's disk and CPU ({os.cpu_count()} CPUs); the "
        f"network-bound figures serve {SLOW_MEGABYTES} MB at {SLOW_RATE // 2**20} MB/s a "
        "connection",
    )
    print(f"(figures saved to {ROOT / 'var' / 'bench' / 'bench_downloads.json'})")


if __name__ == "__main__":
    main()
