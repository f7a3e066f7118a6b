"""The instance page's API example runs as shown: the Python example (txt2img, then png-info,
both authenticated with a nestops token) and the curl line, through the gateway to a cloudsim
host's WebUI."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys

import pytest
from django.test import Client

from instances.models import Status
from tests.hosts import instance_on
from tests.webgateway import conftest as gateway_fixtures

pytestmark = pytest.mark.django_db(transaction=True)

gateway = gateway_fixtures.gateway


def example(page: str, element_id: str) -> str:
    found = re.search(rf'<pre id="{element_id}"><code>(.*?)</code></pre>', page, re.DOTALL)
    assert found, f"no {element_id} on the page"
    return html.unescape(found.group(1))


def page_of(user, instance) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/instances/{instance.public_id}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_copied_examples_run_through_the_gateway(
    gateway, team, alice, shared_host, tmp_path
) -> None:
    instance = instance_on(team, shared_host, name="api-example")
    page = page_of(alice, instance)
    origin = f"http://{instance.public_id}.localhost:{gateway.port}/"
    assert 'href="/account/tokens/"' in page
    token = gateway_fixtures.token_of(alice)
    environment = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    environment["NESTOPS_TOKEN"] = token

    python = example(page, "api-example-python")
    # *.localhost is loopback, but not every resolver knows it (glibc may not): the example
    # connects to 127.0.0.1 and names the instance's own address in the Host header.
    assert f'url = "http://127.0.0.1:{gateway.port}"' in python
    assert f'headers["Host"] = "{instance.public_id}.localhost:{gateway.port}"' in python
    assert "WEBUI_PASSWORD" not in python
    script = tmp_path / "example.py"
    script.write_text(python)
    ran = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / "output-0.png").read_bytes().startswith(b"\x89PNG")
    assert ran.stdout.startswith("output-0.png: puppy dog") and "Steps: 5" in ran.stdout

    curl = example(page, "api-example-curl")
    assert curl.startswith('curl -H "Authorization: Bearer $NESTOPS_TOKEN"')
    assert curl.endswith(f"{origin}sdapi/v1/txt2img")
    answered = subprocess.run(
        ["bash", "-c", curl], env=environment, capture_output=True, text=True, timeout=120
    )
    assert answered.returncode == 0, answered.stderr
    assert len(json.loads(answered.stdout)["images"]) == 1


def test_the_example_is_refused_without_a_token(gateway, team, alice, shared_host, tmp_path):
    instance = instance_on(team, shared_host, name="api-example-no-token")
    curl = example(page_of(alice, instance), "api-example-curl")
    environment = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    environment["NESTOPS_TOKEN"] = "nst_not-a-token"
    answered = subprocess.run(
        ["bash", "-c", curl.replace("curl ", "curl -s -o /dev/null -w '%{http_code}' ", 1)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answered.stdout == "401"


def test_a_deleted_instance_has_no_example(team, alice, shared_host) -> None:
    instance = instance_on(team, shared_host, name="api-example-gone", status=Status.DELETED)
    page = page_of(alice, instance)
    assert "api-example-python" not in page and "api-example-curl" not in page
