"""A deploy makes the host's WebUI serve TLS with its own certificate and records it: the
control plane and the gateway then trust that certificate alone."""

from __future__ import annotations

import hashlib
import json
import logging
import ssl
import stat
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from accounts.requester import Requester, Source
from instances import webui
from instances.models import Status
from operations.models import Kind, OperationStatus
from operations.services import request_operation
from tests.driving import deploy, drive
from webgateway.models import HostCertificate

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def tls_on(settings):
    settings.NESTOPS_POLL_SECONDS = 0.05
    settings.NESTOPS_RETRY_BASE_SECONDS = 0.01
    settings.NESTOPS_RETRY_MAX_SECONDS = 0.05
    settings.NESTOPS_WEBUI_READY_TIMEOUT_SECONDS = 30
    settings.NESTOPS_WEBUI_TLS = True


def presented_sha256(endpoint: str) -> str:
    """The fingerprint of the certificate the WebUI at ``endpoint`` presents (unverified)."""
    parts = urlsplit(endpoint)
    pem = ssl.get_server_certificate((parts.hostname, parts.port), timeout=10)
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def sandbox_of(sim, instance) -> Path:
    found = [i for i in sim.state()["instances"] if i["instance_id"] == instance.cloud_instance_id]
    return Path(found[0]["sandbox"])


def key_lines(sandbox: Path) -> list[str]:
    key = (sandbox / "etc/sd-webui/tls/webui.key").read_text()
    return [line for line in key.splitlines() if line and not line.startswith("-----")]


def deployed(sim, team, alice, name: str):
    instance, operation = deploy(team, alice, sim, name=name)
    operation = drive(operation, sim)
    assert operation.status == OperationStatus.SUCCEEDED, operation.log
    instance.refresh_from_db()
    return instance, operation


def test_a_deploy_records_the_certificate_the_webui_presents(sim, team, alice, as_alice, caplog):
    caplog.set_level(logging.DEBUG)
    instance, operation = deployed(sim, team, alice, "tls-1")
    assert instance.webui_endpoint.startswith("https://")
    assert instance.webui_tls_port
    recorded = HostCertificate.objects.get(instance=instance)
    assert recorded.sha256 == presented_sha256(instance.webui_endpoint)
    assert "PRIVATE KEY" not in recorded.pem and recorded.pem.count("BEGIN CERTIFICATE") == 1
    # The control plane reaches it through the pin.
    assert webui.progress(instance).job_count == 0

    sandbox = sandbox_of(sim, instance)
    key = sandbox / "etc/sd-webui/tls/webui.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    env = (sandbox / "etc/sd-webui/webui.env").read_text()
    assert "--tls-keyfile /etc/sd-webui/tls/webui.key" in env
    assert "--tls-certfile /etc/sd-webui/tls/webui.crt" in env

    # The key is nowhere the control plane shows or keeps.
    api = [
        as_alice.get(f"/api/v1/instances/{instance.public_id}/"),
        as_alice.get(f"/api/v1/operations/{operation.public_id}/"),
    ]
    assert [answer.status_code for answer in api] == [200, 200]
    answers = [
        operation.log,
        json.dumps(operation.state),
        recorded.pem,
        caplog.text,
        *(answer.content.decode() for answer in api),
    ]
    for line in key_lines(sandbox):
        assert not any(line in text for text in answers)
    assert "PRIVATE KEY" not in operation.log
    assert "NESTOPS_CERTIFICATE_BEGIN" not in operation.log
    assert recorded.sha256 in operation.log


def test_the_plain_port_no_longer_answers_a_tls_host(sim, team, alice):
    instance, _operation = deployed(sim, team, alice, "tls-plain")
    plain = f"{sim.base_url}/hosts/{instance.cloud_instance_id}/sdapi/v1/progress"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(plain, timeout=5)
    assert refused.value.code == 400


def test_another_certificate_is_refused_by_the_control_plane(sim, team, alice, tmp_path):
    from tests.webgateway.servers import self_signed
    from webgateway.services import record_host_certificate

    instance, _operation = deployed(sim, team, alice, "tls-other")
    _context, other_pem = self_signed(tmp_path / "other")
    record_host_certificate(instance=instance, pem=other_pem)
    instance.refresh_from_db()
    with pytest.raises(webui.WebUIUnreachable):
        webui.progress(instance)


@pytest.mark.parametrize("kinds", [(Kind.RESTART,), (Kind.STOP, Kind.START)])
def test_restarts_keep_the_certificate_and_the_pin(sim, team, alice, kinds):
    instance, _operation = deployed(sim, team, alice, "tls-keep")
    before = HostCertificate.objects.get(instance=instance).sha256
    endpoint = instance.webui_endpoint
    for kind in kinds:
        operation, _created = request_operation(
            instance=instance, kind=kind, requester=Requester(source=Source.API, actor=alice)
        )
        assert drive(operation, sim).status == OperationStatus.SUCCEEDED, operation.log
        instance.refresh_from_db()
    assert instance.status == Status.RUNNING
    assert instance.webui_endpoint == endpoint
    assert HostCertificate.objects.get(instance=instance).sha256 == before
    assert presented_sha256(instance.webui_endpoint) == before
    assert webui.progress(instance).job_count == 0


def test_without_tls_the_deploy_keeps_plain_http(sim, team, alice, settings):
    settings.NESTOPS_WEBUI_TLS = False
    instance, _operation = deployed(sim, team, alice, "tls-off")
    assert instance.webui_endpoint.startswith("http://")
    assert instance.webui_tls_port is None
    assert not HostCertificate.objects.filter(instance=instance).exists()
    assert webui.progress(instance).job_count == 0


def run_on_host(instance, name: str, arguments: dict, token: str) -> str:
    """Runs a host script through OOS (as an operation would) and returns its output."""
    import time

    from cloud import oos
    from operations import scripts

    execution = oos.start_run_command(
        instance.region,
        [instance.cloud_instance_id],
        scripts.render(name, arguments),
        client_token=token,
    )
    for _ in range(1500):
        done = oos.get_execution(instance.region, execution.execution_id)
        if done is not None and done.finished:
            assert done.succeeded, done.outputs
            return "\n".join(o.output for o in done.outputs)
        time.sleep(0.02)
    raise AssertionError(f"{name} did not finish")


def test_a_reconfigure_keeps_the_certificate_and_prints_only_it(sim, team, alice):
    from nestops import certificates

    instance, _operation = deployed(sim, team, alice, "tls-again")
    before = HostCertificate.objects.get(instance=instance).sha256
    arguments = {
        "WEBUI_USER": instance.webui_user,
        "WEBUI_PASSWORD": instance.webui_password,
        "PORT": 7860,
        "TIMEOUT": 30,
        "TLS": 1,
    }
    output = run_on_host(instance, "configure_webui", arguments, "again")
    _rest, block = certificates.split_block(output)
    assert block is not None and "PRIVATE KEY" not in output
    assert certificates.load(block)[1] == before
    assert not any(line in output for line in key_lines(sandbox_of(sim, instance)))
    assert presented_sha256(instance.webui_endpoint) == before
    # Scripts that call the WebUI on the host reach it over TLS too.
    assert '"tls": true' in output


def test_a_missing_key_is_made_again_on_the_next_configure(sim, team, alice):
    instance, _operation = deployed(sim, team, alice, "tls-lost")
    before = HostCertificate.objects.get(instance=instance).sha256
    (sandbox_of(sim, instance) / "etc/sd-webui/tls/webui.key").unlink()
    arguments = {
        "WEBUI_USER": instance.webui_user,
        "WEBUI_PASSWORD": instance.webui_password,
        "PORT": 7860,
        "TIMEOUT": 30,
        "TLS": 1,
    }
    output = run_on_host(instance, "configure_webui", arguments, "lost")
    assert "made the WebUI's TLS key and certificate" in output
    assert presented_sha256(instance.webui_endpoint) != before


def test_the_idle_poll_asks_a_tls_host_with_its_pin_loaded_beforehand(
    sim, team, alice, django_assert_num_queries
):
    from autostop import webui_poll
    from instances.models import ServiceInstance

    instance, _operation = deployed(sim, team, alice, "tls-idle")
    loaded = (
        ServiceInstance.objects.filter(pk=instance.pk)
        .select_related("webui_certificate")
        .only("id", "webui_endpoint", "webui_user", "webui_password", "webui_certificate__pem")
        .get()
    )
    pem = HostCertificate.objects.get(instance=instance).pem
    with django_assert_num_queries(0):
        assert webui.host_certificate(loaded) == pem
    answers = webui_poll.poll([loaded], concurrency=2, timeout=10, budget=20)
    assert answers[loaded.pk].state == "idle", answers[loaded.pk]


def test_host_scripts_tell_a_tls_webui_over_https(sim, team, alice):
    from operations import scripts

    instance, _operation = deployed(sim, team, alice, "tls-scripts")
    arguments = {
        "PATH": "models/Stable-diffusion/gone.safetensors",
        "WEBUI_USER": instance.webui_user,
        "WEBUI_PASSWORD": instance.webui_password,
        "PORT": 7860,
    }
    output = run_on_host(instance, "delete_model", arguments, "tls-delete")
    _rest, result = scripts.split_result(output)
    assert result is not None and result["refresh"]["refresh-checkpoints"] == 200, output
