"""Through the real gateway to cloudsim's simulated WebUI: the session handoff, API tokens,
and every refusal (anonymous, outsider, viewer, revoked token, expired or forged session,
cross-site Origin)."""

from __future__ import annotations

import base64
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken, AuditAction, AuditEvent
from tests.hosts import instance_on
from tests.webgateway.conftest import token_of
from webgateway.models import GatewaySession, WebUIUse

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def instance(team, shared_host):
    return instance_on(team, shared_host, name="gw-webui")


def _open_from_dashboard(user, instance) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/webui/{instance.public_id}/")
    assert response.status_code == 302
    return response["Location"]


def test_it_hands_the_dashboard_session_over_with_a_one_time_code(gateway, alice, instance):
    location = _open_from_dashboard(alice, instance)
    parts = urlsplit(location)
    assert parts.netloc == gateway.host(instance)
    assert parts.path == "/_nestops/handoff"
    with gateway.client(instance) as client:
        # A claimed X-Forwarded-For is kept as a claim: the audit records the real peer.
        answer = client.get(f"{parts.path}?{parts.query}", headers={"X-Forwarded-For": "6.6.6.6"})
        assert answer.status_code == 302
        assert answer.headers["location"] == "/"
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith("nestops_webui=")
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Domain" not in cookie and "Secure" not in cookie
        page = client.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert instance.cloud_instance_id in page.text
        # The code works once.
        assert client.get(f"{parts.path}?{parts.query}").status_code == 400
    event = AuditEvent.objects.get(action=AuditAction.WEBUI_HANDOFF)
    assert (event.actor, event.target) == (alice, instance.public_id)
    assert event.remote_addr == "127.0.0.1"  # the browser's, as the gateway saw it


def test_a_handoff_code_does_not_open_another_instance(gateway, alice, instance, team, shared_host):
    other = instance_on(team, shared_host, name="gw-other")
    parts = urlsplit(_open_from_dashboard(alice, instance))
    with gateway.client(other) as client:
        assert client.get(f"{parts.path}?{parts.query}").status_code == 400
    assert GatewaySession.objects.count() == 0


def test_a_viewer_and_an_outsider_cannot_open_it_from_the_dashboard(bob, mallory, instance):
    for user, status in ((bob, 403), (mallory, 404)):
        client = Client()
        client.force_login(user)
        assert client.get(f"/webui/{instance.public_id}/").status_code == status


def test_api_clients_generate_with_a_token_as_bearer_or_as_basic_password(gateway, alice, instance):
    token = token_of(alice)
    basic = base64.b64encode(f"anyone:{token}".encode()).decode()
    payload = {"prompt": "a lighthouse", "steps": 2, "width": 64, "height": 64}
    for authorization in (f"Bearer {token}", f"Basic {basic}"):
        with gateway.client(instance, headers={"Authorization": authorization}) as client:
            answer = client.post("/sdapi/v1/txt2img", json=payload)
            assert answer.status_code == 200, answer.text
            assert answer.json()["images"]
            assert client.get("/sdapi/v1/progress").status_code == 200
    use = WebUIUse.objects.get(instance=instance, user=alice)
    assert use.request_count == 2  # the generations; progress polls are not work


@pytest.mark.parametrize("who", ["anonymous", "forged", "expired", "revoked", "outsider", "viewer"])
def test_it_refuses(gateway, who, alice, bob, mallory, instance):
    headers = {"Accept": "application/json"}
    expected = {"anonymous": 401, "forged": 401, "expired": 401, "revoked": 401}
    if who == "forged":
        headers["Cookie"] = "nestops_webui=not-a-session"
    elif who == "expired":
        headers["Cookie"] = f"nestops_webui={gateway.session_cookie(alice, instance)}"
        GatewaySession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif who == "revoked":
        token = token_of(alice)
        ApiToken.objects.update(revoked_at=timezone.now())
        headers["Authorization"] = f"Bearer {token}"
    elif who == "outsider":
        headers["Authorization"] = f"Bearer {token_of(mallory)}"
        expected[who] = 404
    elif who == "viewer":
        headers["Authorization"] = f"Bearer {token_of(bob)}"
        expected[who] = 403
    with gateway.client(instance, headers=headers) as client:
        answer = client.post("/sdapi/v1/txt2img", json={"prompt": "x"})
    assert answer.status_code == expected[who]
    assert answer.json()["code"]
    assert not WebUIUse.objects.exists()


def test_a_session_cookie_of_one_instance_does_not_open_another(
    gateway, alice, instance, team, shared_host
):
    other = instance_on(team, shared_host, name="gw-other")
    cookie = gateway.session_cookie(alice, instance)
    with gateway.client(other, headers={"Cookie": f"nestops_webui={cookie}"}) as client:
        assert client.get("/sdapi/v1/progress").status_code == 401


def test_it_refuses_cross_site_state_changes_but_not_same_origin_ones(gateway, alice, instance):
    cookie = gateway.session_cookie(alice, instance)
    with gateway.client(instance, headers={"Cookie": f"nestops_webui={cookie}"}) as client:
        payload = {"prompt": "x", "steps": 1, "width": 64, "height": 64}
        evil = client.post(
            "/sdapi/v1/txt2img", json=payload, headers={"Origin": "https://evil.example"}
        )
        assert evil.status_code == 403
        assert evil.json()["code"] == "cross_origin"
        own = client.post(
            "/sdapi/v1/txt2img", json=payload, headers={"Origin": gateway.origin(instance)}
        )
        assert own.status_code == 200
        # A cross-site page may not even read with a GET it cannot make state-changing.
        assert client.get("/sdapi/v1/progress").status_code == 200


def test_token_requests_are_limited_per_minute(gateway, alice, instance, settings):
    settings.NESTOPS_GATEWAY_TOKEN_RATE_PER_MINUTE = 2
    # The limit counts per clock minute: start well inside one, so that all three requests
    # fall in the same minute.
    if time.gmtime().tm_sec >= 55:
        time.sleep(61 - time.gmtime().tm_sec)
    with gateway.client(instance, headers={"Authorization": f"Bearer {token_of(alice)}"}) as c:
        answers = [c.get("/sdapi/v1/progress") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert 0 < int(answers[2].headers["retry-after"]) <= 60


def test_a_cached_yes_serves_assets_but_never_work(alice, instance, live_server, settings):
    """With the auth cache on, an ended session may still load assets for a few seconds (what
    docs/gateway.md promises), and is refused at once for anything that does work."""
    from tests.webgateway.conftest import GatewayUnderTest
    from tests.webgateway.servers import run_gateway
    from webgateway.proxy import Config

    config = Config(
        auth_url=f"{live_server.url}/gateway/",
        secret=settings.NESTOPS_GATEWAY_SECRET,
        cache_seconds=30,
        read_timeout=60.0,
        max_upload=1024 * 1024,
    )
    settings.NESTOPS_GATEWAY_AUTH_CACHE_SECONDS = 30
    with run_gateway(config) as port:
        gateway = GatewayUnderTest(port)
        cookie = gateway.session_cookie(alice, instance)
        with gateway.client(instance, headers={"Cookie": f"nestops_webui={cookie}"}) as client:
            assert client.get("/sdapi/v1/progress").status_code == 200
            GatewaySession.objects.update(expires_at=timezone.now())
            assert client.get("/sdapi/v1/progress").status_code == 200  # the cached yes
            work = client.post("/sdapi/v1/txt2img", json={"prompt": "x", "steps": 1})
            assert work.status_code == 401
            other = client.get("/sdapi/v1/progress", headers={"Cookie": "nestops_webui=x"})
            assert other.status_code == 401  # the cache is per cookie


def test_a_removed_member_loses_the_webui_at_the_next_request(gateway, alice, instance):
    from accounts.models import Membership

    cookie = gateway.session_cookie(alice, instance)
    with gateway.client(instance, headers={"Cookie": f"nestops_webui={cookie}"}) as client:
        assert client.get("/sdapi/v1/progress").status_code == 200
        Membership.objects.filter(user=alice).delete()
        assert client.get("/sdapi/v1/progress").status_code == 404
