"""A stopped, starting or deleted host's WebUI address explains itself (never a bare 502),
and an operator can start a stopped host from it."""

from __future__ import annotations

import pytest

from operations.models import Kind, Operation
from tests.hosts import instance_on
from tests.webgateway.conftest import token_of

pytestmark = pytest.mark.django_db(transaction=True)
HTML = {"Accept": "text/html"}


@pytest.fixture
def session(gateway, alice):
    def cookie_for(instance):
        return {"Cookie": f"nestops_webui={gateway.session_cookie(alice, instance)}", **HTML}

    return cookie_for


def test_a_stopped_host_offers_a_start_then_waits_for_it(gateway, session, team, shared_host):
    instance = instance_on(team, shared_host, name="gw-stopped", status="stopped")
    with gateway.client(instance, headers=session(instance)) as client:
        page = client.get("/")
        assert page.status_code == 409
        assert "Start this host" in page.text and 'action="/_nestops/start"' in page.text
        cross = client.post("/_nestops/start", headers={"Origin": "https://evil.example"})
        assert cross.status_code == 403
        assert not Operation.objects.filter(instance=instance).exists()
        started = client.post("/_nestops/start", headers={"Origin": gateway.origin(instance)})
        assert started.status_code == 302 and started.headers["location"] == "/"
        operation = Operation.objects.get(instance=instance)
        assert operation.kind == Kind.START
        instance.status = "starting"
        instance.save(update_fields=["status"])
        waiting = client.get("/")
        assert waiting.status_code == 409
        assert "/_nestops/status" in waiting.text and "Start this host" not in waiting.text
        status = client.get("/_nestops/status", headers={"Accept": "application/json"})
        assert status.json() == {"status": "starting", "ready": False}
        instance.status = "running"
        instance.save(update_fields=["status"])
        assert client.get("/_nestops/status").json() == {"status": "running", "ready": True}
        assert client.get("/").status_code == 200


def test_a_deploying_host_shows_its_progress(gateway, session, team, shared_host):
    instance = instance_on(team, shared_host, name="gw-deploying", status="deploying")
    with gateway.client(instance, headers=session(instance)) as client:
        page = client.get("/")
    assert page.status_code == 409
    assert "Deploying" in page.text and "/_nestops/status" in page.text


def test_a_deleted_host_says_it_is_gone(gateway, session, team, shared_host):
    instance = instance_on(team, shared_host, name="gw-deleted", status="deleted")
    with gateway.client(instance, headers=session(instance)) as client:
        page = client.get("/")
        api = client.get("/sdapi/v1/progress", headers={"Accept": "application/json"})
    assert page.status_code == 410 and "deleted" in page.text
    assert api.status_code == 410 and api.json()["code"] == "instance_deleted"


def test_a_viewer_cannot_start_a_host_from_its_address(gateway, bob, team, shared_host):
    instance = instance_on(team, shared_host, name="gw-stopped-bob", status="stopped")
    with gateway.client(instance, headers={"Authorization": f"Bearer {token_of(bob)}"}) as c:
        assert c.post("/_nestops/start").status_code == 403
    assert not Operation.objects.filter(instance=instance).exists()


def test_an_unknown_instance_is_a_clear_404(gateway, alice):
    with gateway.client(
        "si-aaaaaaaaaaaa", headers={"Authorization": f"Bearer {token_of(alice)}"}
    ) as c:
        answer = c.get("/")
    assert answer.status_code == 404
    assert answer.json()["code"] == "unknown_instance"


def test_a_webui_that_does_not_answer_is_a_clear_502(gateway, alice, team):
    from tests.factories import make_instance

    instance = make_instance(
        team,
        status="running",
        public_ip="127.0.0.1",
        webui_endpoint="http://127.0.0.1:9",  # discard port: nothing listens
        webui_password="x",
    )
    with gateway.client(instance, headers={"Authorization": f"Bearer {token_of(alice)}"}) as c:
        answer = c.get("/")
    assert answer.status_code == 502
    assert answer.json()["code"] == "webui_unreachable"


def test_the_page_speaks_the_users_language(gateway, session, alice, team, shared_host):
    from accounts.models import UserPreference

    UserPreference.objects.update_or_create(user=alice, defaults={"language": "zh-hans"})
    instance = instance_on(team, shared_host, name="gw-stopped-zh", status="stopped")
    with gateway.client(instance, headers=session(instance)) as client:
        page = client.get("/")
    assert page.status_code == 409
    assert "启动此主机" in page.text and "此实例状态" in page.text


def test_a_viewer_of_a_stopped_host_is_not_offered_a_start(gateway, bob, team, shared_host):
    instance = instance_on(team, shared_host, name="gw-stopped-viewer", status="stopped")
    cookie = gateway.session_cookie(bob, instance)
    with gateway.client(instance, headers={"Cookie": f"nestops_webui={cookie}", **HTML}) as c:
        page = c.get("/")
    assert page.status_code == 403
    assert "Start this host" not in page.text
