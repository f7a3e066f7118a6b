"""A simulated host whose webui.env asks for TLS serves its WebUI over HTTPS, with the key and
certificate in its sandbox, on a listener of its own."""

from __future__ import annotations

import hashlib
import http.client
import ssl

import pytest

from tests.cloudsim import helpers

TLS_DEPLOY = r"""set -eu
tls="${NESTOPS_HOST_ROOT}/etc/sd-webui/tls"
mkdir -p "$tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/CN=sim host" -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$tls/webui.key" -out "$tls/webui.crt" 2>/dev/null
flags="--tls-keyfile /etc/sd-webui/tls/webui.key --tls-certfile /etc/sd-webui/tls/webui.crt"
printf 'COMMANDLINE_ARGS="--listen --port 7860 --api --api-auth admin:pw %s"\n' "$flags" \
  > "${NESTOPS_HOST_ROOT}/etc/sd-webui/webui.env"
systemctl restart sd-webui
curl -fsS --cacert "$tls/webui.crt" -u admin:pw \
  "https://127.0.0.1:${NESTOPS_WEBUI_TLS_PORT}/sdapi/v1/progress" >/dev/null
echo "tls port ${NESTOPS_WEBUI_TLS_PORT}"
"""


@pytest.fixture
def tls_host(sim, make_hosts):
    [host_id] = make_hosts()
    finished = helpers.run_script(helpers.oos(sim), [host_id], TLS_DEPLOY)
    assert finished.status == "Success", finished.status_message
    return host_id


def described(sim, host_id: str) -> dict:
    return next(i for i in sim.state()["instances"] if i["instance_id"] == host_id)


def get(port: int, pem: str, path: str) -> int:
    context = ssl.create_default_context(cadata=pem)
    context.check_hostname = False
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    connection.request("GET", path, headers={"Authorization": helpers.basic_auth("admin", "pw")})
    return connection.getresponse().status


def test_the_host_presents_its_own_certificate(sim, tls_host):
    from pathlib import Path

    host = described(sim, tls_host)
    port = host["webui_tls_port"]
    pem = (Path(host["sandbox"]) / "etc/sd-webui/tls/webui.crt").read_text()
    presented = ssl.get_server_certificate(("127.0.0.1", port), timeout=10)
    digest = hashlib.sha256
    assert (
        digest(ssl.PEM_cert_to_DER_cert(presented)).digest()
        == digest(ssl.PEM_cert_to_DER_cert(pem)).digest()
    )
    assert get(port, pem, "/sdapi/v1/progress") == 200
    # The plain endpoint stands for the same port: it speaks HTTPS only now.
    status, body, _ = helpers.http("GET", f"{sim.webui_url(tls_host)}/sdapi/v1/progress")
    assert status == 400 and "HTTPS only" in body["detail"]


def test_each_host_has_its_own_listener(sim, make_hosts):
    first, second = make_hosts(2)
    for host_id in (first, second):
        finished = helpers.run_script(helpers.oos(sim), [host_id], TLS_DEPLOY)
        assert finished.status == "Success", finished.status_message
    ports = {described(sim, h)["webui_tls_port"] for h in (first, second)}
    assert len(ports) == 2


def test_a_stopped_unit_serves_nothing(sim, tls_host):
    port = described(sim, tls_host)["webui_tls_port"]
    finished = helpers.run_script(helpers.oos(sim), [tls_host], "systemctl stop sd-webui")
    assert finished.status == "Success"
    with pytest.raises((ssl.SSLError, OSError)):
        ssl.get_server_certificate(("127.0.0.1", port), timeout=5)


def test_a_plain_host_keeps_its_plain_endpoint(sim, make_hosts):
    [host_id] = make_hosts()
    status, _body, _ = helpers.http("GET", f"{sim.webui_url(host_id)}/sdapi/v1/progress")
    assert status == 200
