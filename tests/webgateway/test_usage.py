"""Who used a WebUI through the gateway, on the instance page and in the API."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import make_instance
from webgateway.services import record_use

pytestmark = pytest.mark.django_db


@pytest.fixture
def instance(team):
    return make_instance(team, status="running", webui_endpoint="http://203.0.113.9:7860")


def test_the_api_lists_users_of_the_webui_and_the_stable_address(as_bob, alice, instance):
    record_use(instance_id=instance.pk, user_id=alice.pk)
    record_use(instance_id=instance.pk, user_id=alice.pk)
    record_use(instance_id=instance.pk, user_id=alice.pk, requests=0)  # an open stream
    answer = as_bob.get(f"/api/v1/instances/{instance.public_id}/webui-usage/")
    assert answer.status_code == 200
    body = answer.json()
    assert body["webui_url"] == f"http://{instance.public_id}.localhost:8001/"
    [use] = body["users"]
    assert (use["user"], use["request_count"]) == ("alice", 2)
    detail = as_bob.get(f"/api/v1/instances/{instance.public_id}/").json()
    assert detail["webui_url"] == body["webui_url"]


def test_outsiders_and_anonymous_users_do_not_see_the_usage(as_mallory, anonymous, instance):
    url = f"/api/v1/instances/{instance.public_id}/webui-usage/"
    assert as_mallory.get(url).status_code == 404
    assert anonymous.get(url).status_code in (401, 403)


def test_the_instance_page_opens_the_webui_through_the_gateway(alice, bob, instance):
    record_use(instance_id=instance.pk, user_id=alice.pk)
    client = Client()
    client.force_login(alice)
    page = client.get(f"/instances/{instance.public_id}/").content.decode()
    assert f'href="/webui/{instance.public_id}/"' in page
    assert "http://203.0.113.9:7860" not in page.split("Host endpoint")[0]
    assert 'id="webui-users"' in page and "alice" in page
    viewer = Client()
    viewer.force_login(bob)
    assert (
        f'href="/webui/{instance.public_id}/"'
        not in viewer.get(f"/instances/{instance.public_id}/").content.decode()
    )
