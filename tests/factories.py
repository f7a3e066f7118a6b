"""Model factories for tests that do not need the cloud."""

from __future__ import annotations

from itertools import count
from typing import Any

from accounts.models import Team
from instances.models import ServiceInstance, Status

_numbers = count(1)


def make_instance(team: Team, **fields: Any) -> ServiceInstance:
    number = next(_numbers)
    values: dict[str, Any] = {
        "name": f"webui-{number}",
        "region": "cn-hangzhou",
        "zone": "cn-hangzhou-i",
        "instance_type": "ecs.gn6i-c4g1.xlarge",
        "vpc_cidr": "192.168.0.0/16",
        "vswitch_cidr": "192.168.0.0/24",
        "status": Status.RUNNING,
        "cloud_instance_id": f"i-test{number:08d}",
        "webui_password": "secret-password-value",
    }
    values.update(fields)
    return ServiceInstance.objects.create(team=team, **values)
