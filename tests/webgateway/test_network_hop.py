"""The WebUI port admits only the gateway's egress addresses when they are configured."""

from __future__ import annotations

import pytest

from cloud import ecs
from operations.models import OperationStatus
from tests.driving import REGION, deploy, drive

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_runner")]


def test_the_security_group_admits_only_the_gateways_egress(sim, team, alice, settings):
    settings.NESTOPS_GATEWAY_EGRESS_CIDRS = ["203.0.113.10/32", "198.51.100.0/28"]
    instance, operation = deploy(team, alice, sim, name="egress-1")
    assert drive(operation, sim).status == OperationStatus.SUCCEEDED, operation.log
    instance.refresh_from_db()
    permissions = ecs.describe_security_group_permissions(REGION, instance.security_group_id)
    assert sorted(p.source_cidr for p in permissions) == ["198.51.100.0/28", "203.0.113.10/32"]
    assert {p.port_range for p in permissions} == {"7860/7860"}


def test_public_access_still_opens_the_port_to_everyone(sim, team, alice, settings):
    settings.NESTOPS_GATEWAY_EGRESS_CIDRS = ["203.0.113.10/32"]
    instance, operation = deploy(team, alice, sim, name="egress-public", public_access=True)
    drive(operation, sim)
    instance.refresh_from_db()
    permissions = ecs.describe_security_group_permissions(REGION, instance.security_group_id)
    assert [p.source_cidr for p in permissions] == ["0.0.0.0/0"]
