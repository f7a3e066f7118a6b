"""Through the gateway, Debian's Chromium clicks Generate in a real Gradio app of each protocol
generation standing in for the WebUI: Gradio 3.41.2 (WebSocket queue, as AUTOMATIC1111) and
Gradio 4.40.0 (SSE queue, as Forge), each behind Gradio's own login (``--gradio-auth``), which
the gateway signs in to so the user never sees it. Each is installed from the package index
into its own virtualenv under var/ the first time (minutes), then reused."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import log_in
from tests.factories import make_instance
from tests.webgateway.conftest import gateway  # noqa: F401  (fixture)
from webgateway.models import WebUIUse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
GRADIO_PASSWORD = "Gradio-Login-7"
# Pins that keep these Gradio releases importable next to today's libraries.
PINS = {
    "3.41.2": ["huggingface_hub<0.26", "pydantic<2.10", "fastapi<0.113", "httpx<0.28"],
    "4.40.0": ["huggingface_hub<0.26", "pydantic<2.10", "fastapi<0.113"],
}


def gradio_python(version: str) -> Path:
    venv = ROOT / "var" / f"test-gradio-{version}"
    python = venv / "bin" / "python3"
    probe = [str(python), "-c", f"import gradio; assert gradio.__version__ == {version!r}"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = [str(python), "-m", "pip", "install", "-q", f"gradio=={version}", *PINS[version]]
    subprocess.run(install, check=True, stdout=subprocess.DEVNULL)
    return python


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["3.41.2", "4.40.0"])
def gradio_webui(request: Any) -> Iterator[str]:
    python = gradio_python(request.param)
    port = _free_port()
    env = {
        **os.environ,
        "GRADIO_ANALYTICS_ENABLED": "False",
        "NO_PROXY": "*",
        "GRADIO_WEBUI_AUTH": f"admin:{GRADIO_PASSWORD}",
    }
    process = subprocess.Popen(
        [str(python), str(Path(__file__).with_name("gradio_webui.py")), str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(600):
            assert process.poll() is None, "the Gradio app exited"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def webui_page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    yield context
    context.close()


def test_generate_in_a_real_gradio_through_the_gateway(
    webui_page,
    live_server,
    gateway,  # noqa: F811
    gradio_webui,
    team,
    alice,
):
    instance = make_instance(
        team,
        name="gradio",
        status="running",
        public_ip="127.0.0.1",
        webui_endpoint=gradio_webui,
        webui_password=GRADIO_PASSWORD,
    )
    dashboard = webui_page.new_page()
    dashboard.set_default_timeout(30_000)
    log_in(dashboard, live_server, "alice")
    dashboard.goto(f"{live_server.url}/instances/{instance.public_id}/")
    with webui_page.expect_page() as opened:
        dashboard.click("text=Open WebUI")
    webui = opened.value
    webui.set_default_timeout(60_000)
    webui.wait_for_url(f"{gateway.origin(instance)}/")
    webui.fill("#prompt textarea", "a lighthouse")
    webui.click("#generate")
    image = webui.locator("#result img")
    image.wait_for(state="visible")
    webui.wait_for_function(
        "() => { const i = document.querySelector('#result img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    source = image.get_attribute("src") or ""
    assert source.startswith(("data:", "/file=", f"{gateway.origin(instance)}/file=")), source
    cookies = {c["name"]: c for c in webui_page.cookies(gateway.origin(instance))}
    assert cookies["nestops_webui"]["httpOnly"] and cookies["nestops_webui"]["sameSite"] == "Lax"
    assert "nestops_webui" not in {c["name"] for c in webui_page.cookies(live_server.url)}
    assert WebUIUse.objects.get(instance=instance, user=alice).request_count >= 1
