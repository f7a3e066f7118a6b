"""Builds a fleet of N running hosts in cloudsim and the matching instances in the database."""

from __future__ import annotations

from typing import Any

REGION = "cn-hangzhou"
INSTANCE_TYPE = "ecs.gn6i-c4g1.xlarge"


def build_fleet(sim: Any, count: int, *, team_slug: str = "bench") -> tuple[Any, list[Any]]:
    from accounts.models import Team
    from cloud import ecs, vpc
    from instances.models import ServiceInstance, Status

    zone = next(
        a.zone_id
        for a in ecs.describe_available_resource(REGION)
        if a.instance_type == INSTANCE_TYPE
    )
    sim.set_stock(zone, INSTANCE_TYPE, count + 100)
    vpc_id, _ = vpc.create_vpc(REGION, cidr_block="10.0.0.0/8", name="bench", client_token="bv")
    _wait(sim, lambda: vpc.describe_vpc(REGION, vpc_id).status == "Available")
    vswitch_id, _ = vpc.create_vswitch(
        REGION,
        vpc_id=vpc_id,
        zone_id=zone,
        cidr_block="10.0.0.0/16",
        name="bench",
        client_token="bs",
    )
    _wait(sim, lambda: vpc.describe_vswitch(REGION, vswitch_id).status == "Available")
    group_id, _ = ecs.create_security_group(REGION, vpc_id=vpc_id, name="bench", client_token="bg")
    cloud_ids: list[str] = []
    for batch in range(0, count, 100):
        amount = min(100, count - batch)
        cloud_ids += ecs.run_instances(
            REGION,
            zone_id=zone,
            instance_type=INSTANCE_TYPE,
            image_id="m-sim-sd-webui",
            security_group_id=group_id,
            vswitch_id=vswitch_id,
            instance_name="bench",
            client_token=f"bench-run-{batch}",
            amount=amount,
        ).instance_ids
    sim.advance(60)
    hosts = ecs.describe_instances(REGION, cloud_ids)
    team, _ = Team.objects.get_or_create(slug=team_slug, defaults={"name": team_slug})
    ServiceInstance.objects.bulk_create(
        [
            ServiceInstance(
                team=team,
                name=f"bench-{n}",
                region=REGION,
                zone=zone,
                instance_type=INSTANCE_TYPE,
                status=Status.RUNNING,
                cloud_instance_id=cloud_id,
                public_ip=hosts[cloud_id].public_ip,
                private_ip=hosts[cloud_id].private_ip,
                vpc_id=vpc_id,
                vswitch_id=vswitch_id,
                security_group_id=group_id,
                webui_password="bench-password",
            )
            for n, cloud_id in enumerate(cloud_ids)
        ],
        batch_size=1000,
    )
    return team, cloud_ids


def _wait(sim: Any, ready: Any) -> None:
    for _ in range(30):
        if ready():
            return
        sim.advance(1)
    raise RuntimeError("cloudsim resource never became Available")
