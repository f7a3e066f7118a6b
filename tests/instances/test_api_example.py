"""The instance page's API example runs as shown: the Python example (txt2img, then png-info,
both authenticated) and the curl line, against a cloudsim host's WebUI."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys

import pytest
from django.test import Client

from tests.hosts import WEBUI_PASSWORD, instance_on

pytestmark = pytest.mark.django_db


def example(page: str, element_id: str) -> str:
    found = re.search(rf'<pre id="{element_id}"><code>(.*?)</code></pre>', page, re.DOTALL)
    assert found, f"no {element_id} on the page"
    return html.unescape(found.group(1))


def test_the_copied_examples_run_against_the_webui(team, alice, shared_host, tmp_path) -> None:
    instance = instance_on(team, shared_host)
    client = Client()
    client.force_login(alice)
    page = client.get(f"/instances/{instance.public_id}/").content.decode()
    environment = {**os.environ, "WEBUI_PASSWORD": WEBUI_PASSWORD}

    script = tmp_path / "example.py"
    script.write_text(example(page, "api-example-python"))
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
    assert curl.startswith('curl -u "admin:$WEBUI_PASSWORD"')
    answered = subprocess.run(
        ["bash", "-c", curl], env=environment, capture_output=True, text=True, timeout=120
    )
    assert answered.returncode == 0, answered.stderr
    assert len(json.loads(answered.stdout)["images"]) == 1
