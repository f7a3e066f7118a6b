"""The shipped nginx configuration, run by Debian's nginx, keeps the same auth contract as the
Python gateway: handoff, tokens, refusals with their pages, Origin checks, streams."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest
from django.test import Client
from websockets.sync.client import connect

from accounts.models import ApiToken
from tests.hosts import instance_on
from tests.webgateway import nginx
from tests.webgateway.conftest import GatewayUnderTest, token_of
from webgateway.models import WebUIUse

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not nginx.available(), reason="nginx is not installed: apt-get install nginx-light"
    ),
]


@pytest.fixture
def through_nginx(live_server, settings, cloudsim, tmp_path):
    django = urlsplit(live_server.url).netloc.replace("localhost", "127.0.0.1")
    with nginx.run_nginx(tmp_path, django=django, secret=settings.NESTOPS_GATEWAY_SECRET) as port:
        settings.NESTOPS_WEBUI_PUBLIC_PORT = port
        settings.NESTOPS_GATEWAY_TOKEN_RATE_PER_MINUTE = 0
        yield GatewayUnderTest(port)


@pytest.fixture
def instance(team, shared_host):
    return instance_on(team, shared_host, name="nginx-webui")


def test_the_handoff_and_the_webui_through_nginx(through_nginx, alice, instance):
    client = Client()
    client.force_login(alice)
    location = urlsplit(client.get(f"/webui/{instance.public_id}/")["Location"])
    assert location.netloc == through_nginx.host(instance)
    with through_nginx.client(instance) as browser:
        answer = browser.get(f"{location.path}?{location.query}")
        assert answer.status_code == 302
        assert "HttpOnly" in answer.headers["set-cookie"]
        page = browser.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 200 and instance.cloud_instance_id in page.text
        # Served from the auth cache or not, a work request always reaches Django.
        for _ in range(2):
            done = browser.post(
                "/sdapi/v1/txt2img",
                json={"prompt": "x", "steps": 1, "width": 64, "height": 64},
                headers={"Origin": through_nginx.origin(instance)},
            )
            assert done.status_code == 200
    assert WebUIUse.objects.get(instance=instance, user=alice).request_count == 2


def test_tokens_and_refusals_through_nginx(through_nginx, alice, bob, instance):
    token = token_of(alice)
    with through_nginx.client(instance, headers={"Authorization": f"Bearer {token}"}) as c:
        assert c.get("/sdapi/v1/progress").status_code == 200
        ApiToken.objects.update(revoked_at="2020-01-01T00:00:00Z")
        revoked = c.get("/sdapi/v1/progress")
        assert revoked.status_code == 401 and revoked.json()["code"] == "invalid_token"
    with through_nginx.client(instance) as anonymous:
        assert anonymous.get("/sdapi/v1/progress").status_code == 401
    with through_nginx.client(instance, headers={"Authorization": f"Bearer {token_of(bob)}"}) as c:
        assert c.get("/").json()["code"] == "role"
    cookie = through_nginx.session_cookie(alice, instance)
    with through_nginx.client(instance, headers={"Cookie": f"nestops_webui={cookie}"}) as c:
        evil = c.post("/sdapi/v1/txt2img", json={}, headers={"Origin": "https://evil.example"})
        assert evil.status_code == 403 and evil.json()["code"] == "cross_origin"


def test_lifecycle_pages_through_nginx(through_nginx, alice, team, shared_host):
    stopped = instance_on(team, shared_host, name="nginx-stopped", status="stopped")
    cookie = through_nginx.session_cookie(alice, stopped)
    headers = {"Cookie": f"nestops_webui={cookie}", "Accept": "text/html"}
    with through_nginx.client(stopped, headers=headers) as c:
        page = c.get("/")
    assert page.status_code == 409 and "Start this host" in page.text
    with through_nginx.client("si-aaaaaaaaaaaa", headers={"Authorization": "Bearer x"}) as c:
        assert c.get("/").status_code == 401


def test_a_path_that_climbs_out_is_refused_by_nginx(through_nginx, alice, instance):
    head = (
        f"GET /%2e%2e/hosts/i-other/ HTTP/1.1\r\nHost: {through_nginx.host(instance)}\r\n"
        f"Authorization: Bearer {token_of(alice)}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", through_nginx.port), timeout=30) as sock:
        sock.sendall(head.encode())
        answer = sock.makefile("rb").read().decode()
    assert answer.split()[1] == "400"  # nginx refuses the climb itself, Django would too


def test_gradio_queues_through_nginx(through_nginx, alice, instance):
    cookie = through_nginx.session_cookie(alice, instance)
    sock = socket.create_connection(("127.0.0.1", through_nginx.port), timeout=10)
    with connect(
        f"ws://{through_nginx.host(instance)}/queue/join",
        sock=sock,
        additional_headers={"Cookie": f"nestops_webui={cookie}"},
        origin=through_nginx.origin(instance),
    ) as ws:
        assert json.loads(ws.recv(timeout=10)) == {"msg": "send_hash"}
        ws.send(json.dumps({"fn_index": 0, "session_hash": "n3"}))
        ws.recv(timeout=10)
        ws.recv(timeout=10)
        ws.send(json.dumps({"data": ["a fox"], "fn_index": 0, "session_hash": "n3"}))
        ws.recv(timeout=10)
        assert json.loads(ws.recv(timeout=10))["msg"] == "process_completed"
    headers = {"Cookie": f"nestops_webui={cookie}", "Origin": through_nginx.origin(instance)}
    with through_nginx.client(instance, headers=headers) as client:
        client.post("/queue/join", json={"data": ["x"], "fn_index": 0, "session_hash": "n4"})
        with client.stream("GET", "/queue/data?session_hash=n4") as stream:
            kinds = [
                json.loads(line[6:])["msg"] for line in stream.iter_lines() if line[:6] == "data: "
            ]
    assert kinds[-2:] == ["process_completed", "close_stream"]
