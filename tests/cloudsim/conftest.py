"""Fixtures of the cloudsim tests: their own simulator, SDK clients, a ready network.

The tests move the clock, drain stock and reset things, so they get a cloudsim of their own
instead of the suite's shared one; the root conftest's ``sim`` fixture (faults cleared after
each test) wraps it. Nothing here needs Django.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_vpc20160428 import models as vpc_models

from cloudsim.testing import RunningSim, start_sim
from tests.cloudsim import helpers

for _name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_name, None)


@pytest.fixture(scope="session")
def cloudsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSim]:
    running = start_sim(Path(tmp_path_factory.mktemp("cloudsim-own")), speed=20.0)
    yield running
    running.stop()
    # Whatever the tests threw at it, the simulator must never have crashed inside.
    log = running.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[-4000:]


@pytest.fixture
def sim(cloudsim: RunningSim) -> Iterator[RunningSim]:
    yield cloudsim
    cloudsim.clear_faults()


@pytest.fixture(scope="session")
def network(cloudsim: RunningSim) -> dict[str, str]:
    """A VPC 10.20.0.0/16, a vSwitch 10.20.0.0/18 in cn-hangzhou-i and an open SG, Available."""
    vpc = helpers.vpc(cloudsim)
    ecs = helpers.ecs(cloudsim)
    vpc_id = vpc.create_vpc(
        vpc_models.CreateVpcRequest(region_id=helpers.REGION, cidr_block="10.20.0.0/16")
    ).body.vpc_id
    cloudsim.advance(2)
    vswitch_id = vpc.create_vswitch(
        vpc_models.CreateVSwitchRequest(
            region_id=helpers.REGION,
            vpc_id=vpc_id,
            zone_id=helpers.ZONE,
            cidr_block="10.20.0.0/18",
        )
    ).body.v_switch_id
    group_id = ecs.create_security_group(
        ecs_models.CreateSecurityGroupRequest(region_id=helpers.REGION, vpc_id=vpc_id)
    ).body.security_group_id
    cloudsim.advance(2)
    return {"vpc_id": vpc_id, "vswitch_id": vswitch_id, "security_group_id": group_id}


@pytest.fixture
def ecs(sim: RunningSim) -> Any:
    return helpers.ecs(sim)


@pytest.fixture
def make_hosts(sim: RunningSim, network: dict[str, str]) -> Callable[..., list[str]]:
    """Creates hosts (stock topped up first) and moves the clock until they are Running."""
    client = helpers.ecs(sim)

    def make(amount: int = 1, **overrides: Any) -> list[str]:
        zone = overrides.get("zone_id", helpers.ZONE)
        kind = overrides.get("instance_type", helpers.T4)
        sim.set_stock(zone, kind, 1000)
        response = helpers.run_instances(client, network, amount=amount, **overrides)
        sim.advance(6)
        return list(response.body.instance_id_sets.instance_id_set)

    return make
