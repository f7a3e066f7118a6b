"""The simulated WebUI speaks Gradio's queues: Gradio 3's WebSocket and Gradio 4's SSE, each
producing a generated image served at its ``/file=`` URL."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.cloudsim import helpers
from tests.cloudsim.test_webui import DEPLOY

AUTH = ("admin", "s3cret-pass")


@pytest.fixture(scope="module")
def shared_host(cloudsim, network):
    """A running host whose WebUI wants Basic credentials (the deploy contract)."""

    class Host:
        pass

    client = helpers.ecs(cloudsim)
    cloudsim.set_stock(helpers.ZONE, helpers.T4, 1000)
    [host_id] = helpers.run_instances(client, network).body.instance_id_sets.instance_id_set
    cloudsim.advance(6)
    finished = helpers.run_script(helpers.oos(cloudsim), [host_id], DEPLOY)
    assert finished.status == "Success", finished.status_message
    host = Host()
    host.webui_url = cloudsim.webui_url(host_id)
    return host


def _basic() -> dict[str, str]:
    return {"Authorization": httpx.BasicAuth(*AUTH)._auth_header}


def test_the_gradio_3_websocket_queue_generates_an_image(shared_host):
    url = shared_host.webui_url.replace("http://", "ws://") + "/queue/join"
    with connect(url, additional_headers=_basic(), proxy=None) as ws:
        assert json.loads(ws.recv(timeout=10)) == {"msg": "send_hash"}
        ws.send(json.dumps({"fn_index": 0, "session_hash": "s3"}))
        assert json.loads(ws.recv(timeout=10))["msg"] == "estimation"
        assert json.loads(ws.recv(timeout=10)) == {"msg": "send_data"}
        ws.send(json.dumps({"data": ["a red fox"], "fn_index": 0, "session_hash": "s3"}))
        assert json.loads(ws.recv(timeout=10))["msg"] == "process_starts"
        done = json.loads(ws.recv(timeout=10))
    assert done["msg"] == "process_completed" and done["success"]
    name = done["output"]["data"][0][0]["name"]
    image = httpx.get(f"{shared_host.webui_url}/file={name}", auth=AUTH, trust_env=False)
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")


def test_the_websocket_queue_wants_the_webui_credentials(shared_host):
    url = shared_host.webui_url.replace("http://", "ws://") + "/queue/join"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, proxy=None)
    assert refused.value.response.status_code == 401


def test_the_gradio_4_sse_queue_builds_file_urls_for_the_forwarded_origin(shared_host):
    with httpx.Client(base_url=shared_host.webui_url, auth=AUTH, trust_env=False) as client:
        joined = client.post(
            shared_host.webui_url + "/queue/join",
            json={"data": ["a lighthouse"], "fn_index": 0, "session_hash": "s4"},
        )
        assert joined.status_code == 200
        event_id = joined.json()["event_id"]
        forwarded = {"X-Forwarded-Host": "si-abc.localhost:8121", "X-Forwarded-Proto": "https"}
        messages = []
        with client.stream(
            "GET", shared_host.webui_url + "/queue/data?session_hash=s4", headers=forwarded
        ) as stream:
            assert stream.headers["content-type"] == "text/event-stream"
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    messages.append(json.loads(line[6:]))
    kinds = [m["msg"] for m in messages]
    assert kinds == ["estimation", "process_starts", "process_completed", "close_stream"]
    assert all(m["event_id"] == event_id for m in messages[:3])
    image = messages[2]["output"]["data"][0][0]["image"]
    assert image["url"] == f"https://si-abc.localhost:8121/file={image['path']}"
    png = httpx.get(f"{shared_host.webui_url}/file={image['path']}", auth=AUTH, trust_env=False)
    assert png.content.startswith(b"\x89PNG")


def test_file_urls_cannot_leave_the_outputs(shared_host):
    answer = httpx.get(
        f"{shared_host.webui_url}/file=../../../etc/sd-webui/webui.env", auth=AUTH, trust_env=False
    )
    assert answer.status_code == 404
