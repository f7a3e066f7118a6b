"""What the gateway does on the wire: credentials swapped, forwarded headers, unbuffered SSE,
WebSockets, streamed uploads, and never a request to an address the instance does not own."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from django.utils import timezone
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from accounts.models import ApiToken
from tests.factories import make_instance
from tests.webgateway.conftest import token_of
from tests.webgateway.servers import run_upstream, run_ws_upstream
from webgateway.models import WebUIUse

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "HostPassword-1"


def _on(team, url: str, **fields):
    values = {
        "status": "running",
        "cloud_instance_id": "i-recording",
        "public_ip": "127.0.0.1",
        "webui_endpoint": url,
        "webui_user": "admin",
        "webui_password": PASSWORD,
    }
    values.update(fields)
    return make_instance(team, **values)


def _ws(gateway, url: str, headers: dict[str, str], origin: str):
    """A WebSocket to ``si-xxxx.localhost`` through the gateway's loopback port."""
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=10)
    return connect(url, sock=sock, additional_headers=headers, origin=origin, open_timeout=10)


@pytest.fixture
def upstream():
    with run_upstream() as running:
        yield running


def test_it_swaps_the_clients_credentials_for_the_hosts_and_forwards_the_origin(
    gateway, alice, team, upstream
):
    instance = _on(team, upstream.url)
    token = token_of(alice)
    headers = {"Authorization": f"Bearer {token}", "Cookie": "nestops_webui=x; theme=dark"}
    with gateway.client(instance, headers=headers) as client:
        answer = client.get("/file=outputs/a.png?x=1")
    assert answer.status_code == 200
    assert "www-authenticate" not in answer.headers
    [seen] = upstream.seen
    sent = {k.lower(): v for k, v in seen["headers"].items()}
    assert seen["path"] == "/file=outputs/a.png?x=1"
    assert sent["authorization"].startswith("Basic ") and token not in str(sent)
    assert sent["cookie"] == "theme=dark"
    assert sent["host"] == gateway.host(instance)
    assert sent["x-forwarded-host"] == gateway.host(instance)
    assert sent["x-forwarded-proto"] == "http"
    assert "x-nestops-gateway-secret" not in sent


def test_cookies_a_webui_sets_reach_the_browser_and_are_never_replayed_by_the_gateway(
    gateway, alice, team, upstream
):
    upstream.sets_cookie = "webui-session=first-callers; Path=/"
    instance = _on(team, upstream.url)
    headers = {"Authorization": f"Bearer {token_of(alice)}"}
    with gateway.client(instance, headers=headers) as client:
        first = client.get("/sdapi/v1/progress")
    with gateway.client(instance, headers=headers) as client:  # another caller, no cookies
        second = client.get("/sdapi/v1/progress")
    assert first.headers["set-cookie"] == "webui-session=first-callers; Path=/"
    assert second.status_code == 200
    assert [seen["headers"].get("Cookie") for seen in upstream.seen] == [None, None]


def test_requests_to_a_host_reuse_one_connection(gateway, alice, team, upstream):
    instance = _on(team, upstream.url)
    cookie = gateway.session_cookie(alice, instance)
    with gateway.client(instance, headers={"Cookie": f"nestops_webui={cookie}"}) as client:
        for _ in range(5):
            assert client.get("/sdapi/v1/progress").status_code == 200
    assert len(upstream.seen) == 5
    assert len({seen["client_port"] for seen in upstream.seen}) == 1


def test_sse_events_reach_the_client_as_they_are_sent(gateway, alice, team, upstream):
    instance = _on(team, upstream.url)
    cookie = gateway.session_cookie(alice, instance)
    with (
        gateway.client(instance, headers={"Cookie": f"nestops_webui={cookie}"}) as client,
        client.stream("GET", "/queue/data?session_hash=abc") as stream,
    ):
        assert stream.headers["content-type"] == "text/event-stream"
        lines = stream.iter_lines()
        first = next(line for line in lines if line)
        # The upstream holds the second event until the first arrived here: no buffering.
        assert "estimation" in first
        upstream.gate.set()
        second = next(line for line in lines if line)
        assert "process_completed" in second


def test_a_200_mib_upload_streams_through_and_counts_as_use(gateway, alice, team, upstream):
    instance = _on(team, upstream.url)
    size = 200 * 1024 * 1024

    def chunks():
        for _ in range(size // (1 << 20)):
            yield b"\0" * (1 << 20)

    cookie = gateway.session_cookie(alice, instance)
    headers = {"Cookie": f"nestops_webui={cookie}", "Content-Length": str(size)}
    with gateway.client(instance, headers=headers) as client:
        answer = client.post("/upload", content=chunks())
    assert answer.status_code == 200
    assert answer.json() == {"received": size}
    assert WebUIUse.objects.get(instance=instance, user=alice).request_count == 1


def _generate_in_background(gateway, instance, token: str) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def generate() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with gateway.client(instance, headers=headers) as client:
            outcome["answer"] = client.post("/sdapi/v1/txt2img", json={"prompt": "x"})

    thread = threading.Thread(target=generate, daemon=True)
    thread.start()
    return thread, outcome


def _until(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


def _generation_reached(upstream) -> bool:
    return any(s["path"] == "/sdapi/v1/txt2img" for s in upstream.seen)


def test_a_generation_waiting_for_its_answer_is_use_all_along(
    gateway, alice, team, upstream, settings
):
    # The reports while it waits are not requests of the client: they use none of its limit.
    settings.NESTOPS_GATEWAY_TOKEN_RATE_PER_MINUTE = 1
    upstream.held = ("/sdapi/v1/txt2img",)
    instance = _on(team, upstream.url)
    thread, outcome = _generate_in_background(gateway, instance, token_of(alice))
    _until(lambda: _generation_reached(upstream))
    _until(lambda: WebUIUse.objects.filter(instance=instance).exists())
    first = WebUIUse.objects.get(instance=instance).last_used_at
    # The host has not answered; the gateway keeps telling nestops the WebUI is in use.
    _until(lambda: WebUIUse.objects.get(instance=instance).last_used_at > first)
    assert "answer" not in outcome
    upstream.gate.set()
    thread.join(30)
    assert outcome["answer"].status_code == 200
    assert WebUIUse.objects.get(instance=instance).request_count == 1


def test_a_generation_ends_when_its_token_is_revoked_meanwhile(gateway, alice, team, upstream):
    upstream.held = ("/sdapi/v1/txt2img",)
    instance = _on(team, upstream.url)
    thread, outcome = _generate_in_background(gateway, instance, token_of(alice))
    _until(lambda: _generation_reached(upstream))
    ApiToken.objects.update(revoked_at=timezone.now())
    thread.join(30)
    assert not upstream.gate.is_set()
    assert outcome["answer"].status_code == 401


def test_it_refuses_a_body_larger_than_the_limit(gateway, alice, team, upstream):
    instance = _on(team, upstream.url)
    head = (
        f"POST /upload HTTP/1.1\r\nHost: {gateway.host(instance)}\r\n"
        f"Authorization: Bearer {token_of(alice)}\r\nContent-Length: {2 * 1024**3}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as sock:
        sock.sendall(head.encode() + b"\0" * 1024)
        status_line = sock.makefile("rb").readline()
    assert status_line.split()[1] == b"413"
    assert upstream.seen == []


def test_websockets_are_relayed_and_checked_for_origin(gateway, alice, team):
    with run_ws_upstream() as ws_upstream:
        instance = _on(team, ws_upstream.url)
        cookie = gateway.session_cookie(alice, instance)
        url = f"ws://{gateway.host(instance)}/queue/join"
        headers = {"Cookie": f"nestops_webui={cookie}"}
        with _ws(gateway, url, headers, gateway.origin(instance)) as ws:
            ws.send('{"fn_index": 0, "session_hash": "abc"}')
            assert ws.recv(timeout=10) == '{"fn_index": 0, "session_hash": "abc"}'
            ws.send(b"\x00\x01")
            assert ws.recv(timeout=10) == b"\x00\x01"
        [seen] = ws_upstream.seen
        sent = {k.lower(): v for k, v in seen["headers"].items()}
        assert seen["path"] == "/queue/join"
        assert sent["authorization"].startswith("Basic ")
        assert sent["x-forwarded-host"] == gateway.host(instance)
        assert "nestops_webui" not in sent.get("cookie", "")
        with pytest.raises(InvalidStatus) as refused:
            _ws(gateway, url, headers, "https://evil.example")
        assert refused.value.response.status_code == 403
        with pytest.raises(InvalidStatus):
            _ws(gateway, url, {}, gateway.origin(instance))
        assert len(ws_upstream.seen) == 1
    assert WebUIUse.objects.get(instance=instance, user=alice).request_count == 1


@pytest.mark.parametrize(
    "path",
    [
        "/../hosts/i-other/sdapi/v1/progress",
        "/%2e%2e/hosts/i-other/",
        "/a/%252e%252e/b",
        "/a\\..\\b",
        "//169.254.169.254/latest/meta-data",
    ],
)
def test_paths_that_climb_out_of_the_webui_are_refused(gateway, alice, team, upstream, path):
    instance = _on(team, upstream.url)
    # Sent as raw bytes: HTTP clients would normalise the path before it leaves.
    head = (
        f"GET {path} HTTP/1.1\r\nHost: {gateway.host(instance)}\r\n"
        f"Authorization: Bearer {token_of(alice)}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as sock:
        sock.sendall(head.encode())
        answer = sock.makefile("rb").read().decode()
    assert answer.split()[1] == "400"
    assert "bad_path" in answer
    assert upstream.seen == []


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://169.254.169.254/latest",
        "http://100.100.100.200/latest/meta-data",
        "http://10.9.9.9:7860",
    ],
)
def test_an_endpoint_the_instance_does_not_own_is_never_reached(gateway, alice, team, endpoint):
    instance = _on(team, endpoint, public_ip="203.0.113.7", private_ip="172.16.1.7")
    with gateway.client(instance, headers={"Authorization": f"Bearer {token_of(alice)}"}) as c:
        answer = c.get("/")
    assert answer.status_code == 503
    assert answer.json()["code"] == "not_ready"


@pytest.mark.parametrize(
    "host", ["evil.example", "si-xxxx.localhost", "si-aaaaaaaaaaaa.localhost.evil.example", ""]
)
def test_a_host_that_names_no_instance_is_refused(gateway, host):
    with gateway.client("si-aaaaaaaaaaaa") as client:
        answer = client.get("/", headers={"Host": host})
    assert answer.status_code == 400


def test_oversized_headers_are_refused(gateway, alice, team, upstream):
    instance = _on(team, upstream.url)
    with gateway.client(instance, headers={"X-Big": "a" * 40_000}) as client:
        answer = client.get("/")
    assert answer.status_code in (400, 431)
    assert upstream.seen == []


def test_credentials_never_cross_the_internet_in_clear_text(gateway, alice, team, settings):
    instance = _on(team, "http://8.8.8.8:7860", public_ip="8.8.8.8")
    with gateway.client(instance, headers={"Authorization": f"Bearer {token_of(alice)}"}) as c:
        answer = c.get("/sdapi/v1/progress")
    assert answer.status_code == 503
    assert answer.json()["code"] == "cleartext_hop"


def test_a_webui_slower_than_the_read_timeout_is_a_clear_504(alice, team, live_server, settings):
    """Long calls pass up to NESTOPS_GATEWAY_READ_TIMEOUT_SECONDS (an hour by default); here a
    gateway allowed one second meets a WebUI that holds its answer back."""
    from tests.webgateway.conftest import GatewayUnderTest
    from tests.webgateway.servers import run_gateway
    from webgateway.proxy import Config

    config = Config(
        auth_url=f"{live_server.url}/gateway/",
        secret=settings.NESTOPS_GATEWAY_SECRET,
        cache_seconds=0,
        read_timeout=1.0,
        max_upload=1024,
    )
    with run_upstream() as upstream, run_gateway(config) as port:
        instance = _on(team, upstream.url)
        gateway = GatewayUnderTest(port)
        with gateway.client(instance, headers={"Authorization": f"Bearer {token_of(alice)}"}) as c:
            answer = c.get("/slow")  # the upstream waits for a gate the test never opens
        upstream.gate.set()
    assert answer.status_code == 504
    assert answer.json()["code"] == "webui_timeout"
