"""Reconcile 10,000 hosts: DescribeInstances calls (floor: ceil(N/100) per region), database
queries and wall time (target <= 5 s)."""

from __future__ import annotations

import math
import os

from harness import median, report, setup_django, start_cloudsim, timed, workdir

HOSTS = int(os.environ.get("BENCH_RECONCILE_HOSTS", "10000"))


def main() -> None:
    folder = workdir("reconcile")
    setup_django(folder)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from fleet import build_fleet

    from instances.reconcile import reconcile_instances

    sim = start_cloudsim(folder / "cloudsim")
    try:
        _team, cloud_ids = build_fleet(sim, HOSTS)
        sim.reset_calls()
        with CaptureQueriesContext(connection) as queries:
            first = reconcile_instances()
        calls = sim.calls().get("Ecs.DescribeInstances", 0)
        durations, last = timed(reconcile_instances, repeat=5)
        # Drift: 1 % of the hosts stopped in the console behind nestops' back.
        from cloud import ecs

        for cloud_id in cloud_ids[: HOSTS // 100]:
            ecs.stop_instance("cn-hangzhou", cloud_id, stopped_mode="StopCharging")
        sim.advance(60)
        with CaptureQueriesContext(connection) as drift_queries:
            drift_durations, drifted = timed(reconcile_instances, repeat=1)
        report(
            "bench_reconcile",
            {
                "hosts": HOSTS,
                "describe_instances_calls": calls,
                "describe_instances_floor": math.ceil(HOSTS / 100),
                "database_queries": len(queries),
                "corrected": len(first.corrected),
                "wall_seconds_median": median(durations),
                "wall_seconds_max": max(durations),
                "drift_hosts_corrected": len(drifted.corrected),
                "drift_database_queries": len(drift_queries),
                "drift_wall_seconds": drift_durations[0],
            },
            "one region, nothing drifted; cloudsim and the control plane on the same machine",
        )
        assert last.checked == HOSTS
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
