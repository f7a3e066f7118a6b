"""Benchmark: signed DescribeInstances with 100 InstanceIds per second, through the ECS SDK.

cloudsim runs pinned to CPU 0 (``taskset -c 0`` when available) with 100 running hosts.
Client processes each keep one SDK client (one keep-alive connection) and make their share of a
fixed number of calls; a figure is total calls / wall time from the moment all clients are
ready. The clients are pinned to the other CPUs when there are at least two of them (or with
``--pin-clients``). On a two-CPU machine they are left to the scheduler instead: the SDK spends
about 3 ms of client CPU per call (signing and URL-encoding a 2 KB id list, reading 200 KB), so
one client CPU cannot send 300 calls a second, and the spare time of CPU 0 is better used by
clients than left idle. cloudsim's own CPU share is measured and printed either way.

The headline figure measures cloudsim: the SDK signs (ACS3-HMAC-SHA256) and sends each call
through its own transport (``Client.call_api``) and hands back the raw answer, which the client
checks holds the 100 hosts. Turning each 200 KB answer into the SDK's typed models costs the
client about ten times what the simulator spends answering, so on a two-CPU machine that
figure says how fast one client CPU parses, not how fast cloudsim answers; it is measured too
and printed in the description line.

    python bench/bench_cloudsim.py [--calls 3000] [--clients 4]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

for _name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_name, None)

from alibabacloud_ecs20140526 import models as ecs_models  # noqa: E402
from alibabacloud_ecs20140526.client import Client as EcsClient  # noqa: E402
from alibabacloud_tea_openapi import utils_models as open_api_models  # noqa: E402
from alibabacloud_tea_openapi.utils_models import Config, OpenApiRequest  # noqa: E402
from alibabacloud_vpc20160428 import models as vpc_models  # noqa: E402
from alibabacloud_vpc20160428.client import Client as VpcClient  # noqa: E402
from darabonba.runtime import RuntimeOptions  # noqa: E402

from cloudsim.testing import RunningSim, start_sim  # noqa: E402

REGION = "cn-hangzhou"
ZONE = "cn-hangzhou-i"
INSTANCE_TYPE = "ecs.gn6i-c4g1.xlarge"


def _config(endpoint: str, key_id: str, secret: str) -> Config:
    return Config(
        access_key_id=key_id,
        access_key_secret=secret,
        endpoint=endpoint,
        protocol="http",
        read_timeout=30_000,
        connect_timeout=5_000,
    )


def _create_hosts(sim: RunningSim, amount: int) -> list[str]:
    config = _config(sim.endpoint, sim.access_key_id, sim.access_key_secret)
    vpc = VpcClient(config)
    ecs = EcsClient(config)
    vpc_id = vpc.create_vpc(
        vpc_models.CreateVpcRequest(region_id=REGION, cidr_block="10.0.0.0/16")
    ).body.vpc_id
    sim.advance(2)
    vswitch_id = vpc.create_vswitch(
        vpc_models.CreateVSwitchRequest(
            region_id=REGION, vpc_id=vpc_id, zone_id=ZONE, cidr_block="10.0.0.0/20"
        )
    ).body.v_switch_id
    group_id = ecs.create_security_group(
        ecs_models.CreateSecurityGroupRequest(region_id=REGION, vpc_id=vpc_id)
    ).body.security_group_id
    sim.advance(2)
    sim.set_stock(ZONE, INSTANCE_TYPE, amount)
    ids = ecs.run_instances(
        ecs_models.RunInstancesRequest(
            region_id=REGION,
            zone_id=ZONE,
            instance_type=INSTANCE_TYPE,
            image_id="m-sim-sd-webui",
            security_group_id=group_id,
            v_switch_id=vswitch_id,
            internet_max_bandwidth_out=10,
            amount=amount,
        )
    ).body.instance_id_sets.instance_id_set
    sim.advance(10)
    return list(ids)


def _client(
    endpoint: str,
    key_id: str,
    secret: str,
    ids: list[str],
    calls: int,
    typed: bool,
    cpus: set[int] | None,
    ready: Any,
    results: Any,
) -> None:
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cpus)
    client = EcsClient(_config(endpoint, key_id, secret))
    request = ecs_models.DescribeInstancesRequest(
        region_id=REGION, instance_ids=json.dumps(ids), page_size=100
    )
    # The first call opens the keep-alive connection and checks the typed answer in full.
    body = client.describe_instances(request).body
    if body is None or sorted(i.instance_id for i in body.instances.instance) != sorted(ids):
        results.put(("error", "the typed answer did not hold every host"))
        ready.abort()
        return
    params = open_api_models.Params(
        action="DescribeInstances",
        version="2014-05-26",
        protocol="HTTP",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="byte",
    )
    query = {"RegionId": REGION, "InstanceIds": json.dumps(ids), "PageSize": "100"}
    runtime = RuntimeOptions()
    ready.wait()
    began = time.perf_counter()
    for _ in range(calls):
        if typed:
            count = len(client.describe_instances(request).body.instances.instance)
        else:
            raw = client.call_api(params, OpenApiRequest(query=dict(query)), runtime)["body"]
            count = raw.count(b'"InstanceId":')
        if count != len(ids):
            results.put(("error", f"an answer held {count} hosts, not {len(ids)}"))
            return
    results.put(("ok", time.perf_counter() - began))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000, help="total calls (default 3000)")
    parser.add_argument("--clients", type=int, default=8, help="client processes (default 8)")
    parser.add_argument(
        "--pin-clients", action="store_true", help="pin the clients to the CPUs other than 0"
    )
    args = parser.parse_args()

    cpu_count = os.cpu_count() or 1
    prefix: tuple[str, ...] = ()
    if shutil.which("taskset") and cpu_count > 1:
        prefix = ("taskset", "-c", "0")
    pin = bool(prefix) and (args.pin_clients or cpu_count >= 3)
    client_cpus = set(range(1, cpu_count)) if pin else None

    data_dir = Path(tempfile.mkdtemp(prefix="bench-cloudsim-"))
    sim = start_sim(data_dir, speed=1.0, command_prefix=prefix)
    try:
        ids = _create_hosts(sim, 100)
        raw_rate, raw_total, raw_elapsed, busy = _measure(
            sim, ids, args, typed=False, cpus=client_cpus
        )
        typed_rate, _, _, _ = _measure(sim, ids, args, typed=True, cpus=client_cpus, share=0.25)
    except BenchError as error:
        print(f"bench_cloudsim: {error}", file=sys.stderr)
        return 1
    finally:
        sim.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"describe_instances_100_ids_per_s: {raw_rate:.0f}")
    if client_cpus:
        placement = (
            f"cloudsim pinned to CPU 0, {args.clients} client processes pinned to CPU(s) "
            f"{','.join(map(str, sorted(client_cpus)))}"
        )
    elif prefix:
        placement = (
            f"cloudsim pinned to CPU 0, {args.clients} client processes free on all "
            f"{cpu_count} CPUs"
        )
    else:
        placement = f"no taskset: cloudsim and {args.clients} client processes share the CPUs"
    print(
        f"{raw_total} ACS3-signed DescribeInstances calls (100 InstanceIds, 100 hosts in each "
        f"~200 KB answer) sent by the ECS SDK over keep-alive connections in {raw_elapsed:.1f} s "
        f"(cloudsim used {busy:.0%} of its CPU); {placement}; with the SDK also parsing every "
        f"answer into its models the clients managed {typed_rate:.0f}/s (client-bound)."
    )
    return 0


class BenchError(RuntimeError):
    """A client failed or an answer was wrong."""


def _measure(
    sim: RunningSim,
    ids: list[str],
    args: argparse.Namespace,
    *,
    typed: bool,
    cpus: set[int] | None,
    share: float = 1.0,
) -> tuple[float, int, float, float]:
    """Runs the client processes once: (calls per second, calls, seconds, cloudsim's CPU share)."""
    per_client = max(1, int(args.calls * share) // args.clients)
    # Spawned, not forked: a forked child would share this process's pooled SDK connection.
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(args.clients + 1)
    results = context.Queue()
    workers = [
        context.Process(
            target=_client,
            args=(
                sim.endpoint,
                sim.access_key_id,
                sim.access_key_secret,
                ids,
                per_client,
                typed,
                cpus,
                ready,
                results,
            ),
        )
        for _ in range(args.clients)
    ]
    for worker in workers:
        worker.start()
    cpu_before = _cpu_seconds(sim.process.pid)
    with contextlib.suppress(threading.BrokenBarrierError):  # a client gave up: see its result
        ready.wait(timeout=120)
    began = time.perf_counter()
    outcomes = []
    while len(outcomes) < len(workers):
        try:
            outcomes.append(results.get(timeout=1))
        except queue.Empty:
            if not any(worker.is_alive() for worker in workers) and results.empty():
                raise BenchError("a client process died without a result") from None
    elapsed = time.perf_counter() - began
    cpu_used = _cpu_seconds(sim.process.pid) - cpu_before
    for worker in workers:
        worker.join()
    failures = [detail for kind, detail in outcomes if kind != "ok"]
    if failures:
        raise BenchError(failures[0])
    total = per_client * args.clients
    return total / elapsed, total, elapsed, cpu_used / elapsed


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux), 0 elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    sys.exit(main())
