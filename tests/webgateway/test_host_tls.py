"""The gateway reaches a deployed host's WebUI over TLS, trusting only the certificate the
deploy recorded for it."""

from __future__ import annotations

import subprocess

import pytest

from operations.models import OperationStatus
from tests.driving import deploy, drive
from tests.operations.test_deploy_tls import presented_sha256, sandbox_of
from tests.webgateway.conftest import token_of
from webgateway.models import HostCertificate

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tls_host(sim, team, alice, settings, fast_runner):
    settings.NESTOPS_WEBUI_TLS = True
    instance, operation = deploy(team, alice, sim, name="gateway-tls")
    assert drive(operation, sim).status == OperationStatus.SUCCEEDED, operation.log
    instance.refresh_from_db()
    return instance


def test_a_deployed_host_is_reached_over_tls_with_its_pin(gateway, alice, tls_host):
    assert tls_host.webui_endpoint.startswith("https://")
    headers = {"Authorization": f"Bearer {token_of(alice)}"}
    with gateway.client(tls_host, headers=headers) as client:
        answer = client.get("/sdapi/v1/sd-models")
    assert answer.status_code == 200, answer.text
    assert answer.json()  # the simulated WebUI's models, through the TLS hop


def test_a_host_presenting_another_certificate_is_refused(gateway, sim, alice, tls_host):
    pinned = HostCertificate.objects.get(instance=tls_host).sha256
    tls = sandbox_of(sim, tls_host) / "etc/sd-webui/tls"
    # Someone else answers at the host's address with a certificate of their own.
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "1", "-subj", "/CN=impostor",
            "-keyout", str(tls / "webui.key"), "-out", str(tls / "webui.crt"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    assert presented_sha256(tls_host.webui_endpoint) != pinned
    headers = {"Authorization": f"Bearer {token_of(alice)}"}
    with gateway.client(tls_host, headers=headers) as client:
        refused = client.get("/sdapi/v1/sd-models")
    assert refused.status_code == 502
    assert refused.json()["code"] == "webui_certificate"


def test_nginx_is_refused_a_pinned_host(live_server, settings, alice, tls_host):
    import httpx

    headers = {
        "X-Nestops-Gateway-Secret": settings.NESTOPS_GATEWAY_SECRET,
        "X-Forwarded-Host": f"{tls_host.public_id}.localhost:8001",
        "X-Forwarded-Proto": "http",
        "X-Original-Method": "GET",
        "X-Original-URI": "/sdapi/v1/progress",
        "Authorization": f"Bearer {token_of(alice)}",
        "Accept": "application/json",
    }
    asked = httpx.get(f"{live_server.url}/gateway/auth", headers=headers, trust_env=False)
    assert asked.status_code == 200 and asked.headers["X-Nestops-Upstream-Certificate"]
    headers["X-Nestops-Auth-Mode"] = "nginx"
    refused = httpx.get(f"{live_server.url}/gateway/auth", headers=headers, trust_env=False)
    assert refused.status_code == 403
    assert "X-Nestops-Upstream-Authorization" not in refused.headers
