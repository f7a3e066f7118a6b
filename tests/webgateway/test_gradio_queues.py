"""Gradio's queues through the gateway to cloudsim's WebUI: Gradio 3's WebSocket and Gradio 4's
SSE generate an image whose URL is the gateway's; an open stream keeps the host awake and ends
when access is withdrawn."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest
from websockets.sync.client import connect

from accounts.models import ApiToken
from tests.autostop.driving import beat_minute, idle_stops, running_host
from tests.hosts import instance_on
from tests.webgateway.conftest import token_of
from webgateway.models import WebUIUse

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def instance(team, shared_host):
    return instance_on(team, shared_host, name="gw-gradio")


def _ws(gateway, instance, cookie: str):
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=10)
    return connect(
        f"ws://{gateway.host(instance)}/queue/join",
        sock=sock,
        additional_headers={"Cookie": f"nestops_webui={cookie}"},
        origin=gateway.origin(instance),
        open_timeout=10,
    )


def test_a_gradio_3_websocket_job_through_the_gateway(gateway, alice, instance):
    with _ws(gateway, instance, gateway.session_cookie(alice, instance)) as ws:
        assert json.loads(ws.recv(timeout=10)) == {"msg": "send_hash"}
        ws.send(json.dumps({"fn_index": 0, "session_hash": "g3"}))
        assert json.loads(ws.recv(timeout=10))["msg"] == "estimation"
        assert json.loads(ws.recv(timeout=10))["msg"] == "send_data"
        ws.send(json.dumps({"data": ["a red fox"], "fn_index": 0, "session_hash": "g3"}))
        assert json.loads(ws.recv(timeout=10))["msg"] == "process_starts"
        done = json.loads(ws.recv(timeout=10))
    assert done["msg"] == "process_completed"
    name = done["output"]["data"][0][0]["name"]
    cookie = gateway.session_cookie(alice, instance)
    with gateway.client(instance, headers={"Cookie": f"nestops_webui={cookie}"}) as client:
        image = client.get(f"/file={name}")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert WebUIUse.objects.get(instance=instance, user=alice).request_count == 1


def test_a_gradio_4_sse_job_through_the_gateway_answers_the_gateways_urls(gateway, alice, instance):
    cookie = gateway.session_cookie(alice, instance)
    headers = {"Cookie": f"nestops_webui={cookie}", "Origin": gateway.origin(instance)}
    with gateway.client(instance, headers=headers) as client:
        joined = client.post(
            "/queue/join", json={"data": ["a lighthouse"], "fn_index": 0, "session_hash": "g4"}
        )
        assert joined.status_code == 200
        messages = []
        with client.stream("GET", "/queue/data?session_hash=g4") as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    messages.append(json.loads(line[6:]))
        image = messages[2]["output"]["data"][0][0]["image"]
        assert image["url"] == f"{gateway.origin(instance)}/file={image['path']}"
        assert client.get(image["url"].removeprefix(gateway.origin(instance))).status_code == 200
    assert [m["msg"] for m in messages][-1] == "close_stream"


def test_a_revoked_token_ends_an_open_stream(gateway, alice, instance):
    token = token_of(alice)
    with (
        gateway.client(instance, headers={"Authorization": f"Bearer {token}"}) as client,
        client.stream("GET", "/queue/data?session_hash=revoked") as stream,
    ):
        assert stream.status_code == 200
        ApiToken.objects.update(revoked_at="2020-01-01T00:00:00Z")
        # The SSE queue would hold the stream for a minute; the gateway ends it at its next
        # check instead.
        with pytest.raises(httpx.RemoteProtocolError):
            for _ in stream.iter_raw():
                pass


@pytest.mark.usefixtures("fast_runner", "mailbox")
def test_an_open_stream_keeps_the_host_awake(clocks, gateway, team, alice):
    instance = running_host(team, alice, clocks, "gw-stream")
    token = token_of(alice)
    with (
        gateway.client(instance, headers={"Authorization": f"Bearer {token}"}) as client,
        client.stream("GET", "/queue/data?session_hash=awake") as stream,
    ):
        assert stream.status_code == 200
        for _ in range(500):  # the first report of the open stream
            if WebUIUse.objects.filter(instance=instance).exists():
                break
            time.sleep(0.01)
        for _ in range(40):
            beat_minute(clocks)
            reported = WebUIUse.objects.get(instance=instance).last_used_at
            # Wait (on counts, not time) until the gateway reported the stream this minute.
            for _ in range(500):
                if WebUIUse.objects.get(instance=instance).last_used_at > reported:
                    break
                time.sleep(0.01)
        assert idle_stops(instance) == []  # 40 minutes of an open stream
    minutes = 0
    while not idle_stops(instance):
        beat_minute(clocks)
        minutes += 1
        assert minutes <= 33
