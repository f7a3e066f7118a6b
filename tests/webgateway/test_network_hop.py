"""The WebUI port admits only the gateway's egress addresses when they are configured."""

from __future__ import annotations

import pytest

from cloud import ecs
from operations.models import OperationStatus
from tests.driving import REGION, deploy, drive

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.usefixtures("fast_runner")
def test_the_security_group_admits_only_the_gateways_egress(sim, team, alice, settings):
    settings.NESTOPS_GATEWAY_EGRESS_CIDRS = ["203.0.113.10/32", "198.51.100.0/28"]
    instance, operation = deploy(team, alice, sim, name="egress-1")
    assert drive(operation, sim).status == OperationStatus.SUCCEEDED, operation.log
    instance.refresh_from_db()
    permissions = ecs.describe_security_group_permissions(REGION, instance.security_group_id)
    assert sorted(p.source_cidr for p in permissions) == ["198.51.100.0/28", "203.0.113.10/32"]
    assert {p.port_range for p in permissions} == {"7860/7860"}


@pytest.mark.usefixtures("fast_runner")
def test_public_access_still_opens_the_port_to_everyone(sim, team, alice, settings):
    settings.NESTOPS_GATEWAY_EGRESS_CIDRS = ["203.0.113.10/32"]
    instance, operation = deploy(team, alice, sim, name="egress-public", public_access=True)
    drive(operation, sim)
    instance.refresh_from_db()
    permissions = ecs.describe_security_group_permissions(REGION, instance.security_group_id)
    assert [p.source_cidr for p in permissions] == ["0.0.0.0/0"]


def test_a_host_serving_tls_is_reached_with_its_pinned_certificate(gateway, alice, team, tmp_path):
    from tests.factories import make_instance
    from tests.webgateway.conftest import token_of
    from tests.webgateway.servers import run_upstream, self_signed
    from webgateway.services import record_host_certificate

    server_tls, pem = self_signed(tmp_path / "a")
    _other_tls, other_pem = self_signed(tmp_path / "b")
    with run_upstream(tls=server_tls) as upstream:
        # A global-looking address would be refused in clear text; over TLS it is fine.
        instance = make_instance(
            team,
            status="running",
            public_ip="127.0.0.1",
            webui_endpoint=upstream.url,
            webui_password="pw",
        )
        headers = {"Authorization": f"Bearer {token_of(alice)}"}
        with gateway.client(instance, headers=headers) as client:
            record_host_certificate(instance=instance, pem=pem)
            assert client.get("/sdapi/v1/progress").status_code == 200
            sent = {k.lower(): v for k, v in upstream.seen[-1]["headers"].items()}
            assert sent["authorization"].startswith("Basic ")
            record_host_certificate(instance=instance, pem=other_pem)
            seen = len(upstream.seen)
            refused = client.get("/sdapi/v1/progress")
            assert refused.status_code == 502
            assert refused.json()["code"] == "webui_certificate"
            assert len(upstream.seen) == seen  # no request reached a host it could not trust
