"""cloudsim started as `make run` starts it: a data directory relative to its working dir."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from cloud import ecs, oos, vpc

REGION = "cn-hangzhou"


def test_scripts_run_when_the_data_directory_is_relative(tmp_path, settings) -> None:
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cloudsim",
            "--port",
            "0",
            "--data-dir",
            "var/cloudsim",
            "--speed",
            "50",
        ],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": os.getcwd()},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        settings.NESTOPS_SIM_ENDPOINT = line.strip().rsplit("//", 1)[1]
        settings.NESTOPS_SIM_ACCESS_KEY_ID = "nestops-sim"
        settings.NESTOPS_SIM_ACCESS_KEY_SECRET = "nestops-sim-secret"
        vpc_id, _ = vpc.create_vpc(REGION, cidr_block="10.0.0.0/16", name="rel", client_token="r1")
        zone = next(a.zone_id for a in ecs.describe_available_resource(REGION) if a.in_stock)
        time.sleep(0.1)
        vswitch_id, _ = vpc.create_vswitch(
            REGION,
            vpc_id=vpc_id,
            zone_id=zone,
            cidr_block="10.0.1.0/24",
            name="rel",
            client_token="r2",
        )
        group_id, _ = ecs.create_security_group(
            REGION, vpc_id=vpc_id, name="rel", client_token="r3"
        )
        time.sleep(0.1)
        offered = next(
            a.instance_type
            for a in ecs.describe_available_resource(REGION, zone_id=zone)
            if a.in_stock
        )
        host = ecs.run_instances(
            REGION,
            zone_id=zone,
            instance_type=offered,
            image_id="m-sim-sd-webui",
            security_group_id=group_id,
            vswitch_id=vswitch_id,
            instance_name="rel",
            client_token="r4",
        ).instance_ids[0]
        for _ in range(50):
            if ecs.describe_instances(REGION, [host])[host].status == "Running":
                break
            time.sleep(0.1)
        execution = oos.start_run_command(REGION, [host], "echo ok", client_token="r5")
        for _ in range(100):
            found = oos.get_execution(REGION, execution.execution_id)
            if found and found.finished:
                break
            time.sleep(0.05)
        assert found.status == "Success", found.outputs
        assert found.outputs[0].output.strip() == "ok"
    finally:
        process.terminate()
        process.wait(timeout=10)
