"""The team's settings pages: model site tokens (never shown back), download settings (the
GitHub mirror extensions are cloned through), notification channels with a test message; and
who stopped a host, on its status line and in the list."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditEvent
from accounts.requester import Requester, Source
from hostfiles import services as host_files
from hostfiles.models import SourceToken
from instances.models import Status, StopMode
from notifications.models import NotificationChannel, NotificationDelivery
from operations.models import Kind, Operation, OperationStatus
from tests.factories import make_instance

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_sets_replaces_and_removes_a_token_that_is_never_shown(carol, bob, team):
    admin = signed_in(carol)
    admin.post("/account/model-site-tokens/", {"provider": "huggingface", "token": "hf_first123"})
    admin.post("/account/model-site-tokens/", {"provider": "huggingface", "token": "hf_second456"})
    assert SourceToken.objects.get(team=team, provider="huggingface").token == "hf_second456"
    page = admin.get("/account/model-site-tokens/").content.decode()
    assert "hf_second456" not in page and "hf_first123" not in page
    assert "Replace" in page and "by carol" in page

    viewer = signed_in(bob)
    seen = viewer.get("/account/model-site-tokens/").content.decode()
    assert "Set" in seen and 'name="token"' not in seen
    assert (
        viewer.post(
            "/account/model-site-tokens/", {"provider": "civitai", "token": "x" * 10}
        ).status_code
        == 403
    )

    bad = admin.post(
        "/account/model-site-tokens/", {"provider": "civitai", "token": "a b"}, follow=True
    )
    assert "A token is 8 to 512 characters" in bad.content.decode()
    admin.post("/account/model-site-tokens/", {"provider": "huggingface", "remove": "1"})
    assert not SourceToken.objects.filter(team=team).exists()
    assert AuditEvent.objects.filter(team=team, action="source_token.deleted").count() == 1


def test_the_team_mirror_is_where_github_extensions_are_cloned_from(carol, alice, team, settings):
    admin = signed_in(carol)
    admin.post("/account/downloads/", {"github_mirror": "https://ghproxy.example.com"})
    page = admin.get("/account/downloads/").content.decode()
    assert 'value="https://ghproxy.example.com/"' in page
    instance = make_instance(team)
    operation, _created = host_files.request_extension_install(
        instance=instance,
        url="https://github.com/owner/repo",
        requester=Requester(source=Source.API, actor=alice),
    )
    assert (
        operation.params["fetch_url"] == "https://ghproxy.example.com/https://github.com/owner/repo"
    )

    refused = admin.post(
        "/account/downloads/", {"github_mirror": "http://169.254.169.254/"}, follow=True
    ).content.decode()
    assert "This mirror cannot be used" in refused
    assert 'value="https://ghproxy.example.com/"' in refused
    assert signed_in(alice).post("/account/downloads/", {"github_mirror": ""}).status_code == 403


def test_an_admin_adds_a_dingtalk_robot_and_sends_it_a_test(carol, bob, team, settings):
    settings.NESTOPS_WEBHOOK_ALLOW_PRIVATE_URLS = False
    admin = signed_in(carol)
    url = "https://oapi.dingtalk.com/robot/send?access_token=abc123secret"
    admin.post(
        "/account/notifications/",
        {"action": "add", "name": "Ops", "type": "dingtalk", "target": url},
    )
    channel = NotificationChannel.objects.get(team=team)
    assert (channel.kind, channel.webhook_format) == ("webhook", "dingtalk")
    assert channel.webhook_url() == url and "abc123secret" not in channel.target
    page = admin.get("/account/notifications/").content.decode()
    assert "abc123secret" not in page and "DingTalk" in page

    admin.post("/account/notifications/", {"action": "test", "channel": channel.public_id})
    (delivery,) = NotificationDelivery.objects.filter(channel=channel)
    assert delivery.event == "test"
    assert "Test notification from nestops" in admin.get("/account/notifications/").content.decode()

    refused = admin.post(
        "/account/notifications/",
        {"action": "add", "name": "meta", "type": "webhook", "target": "http://169.254.169.254/x"},
        follow=True,
    )
    assert "not allowed" in refused.content.decode() and NotificationChannel.objects.count() == 1
    viewer = signed_in(bob)
    assert "Send a test" not in viewer.get("/account/notifications/").content.decode()
    assert (
        viewer.post(
            "/account/notifications/", {"action": "test", "channel": channel.public_id}
        ).status_code
        == 403
    )
    admin.post("/account/notifications/", {"action": "delete", "channel": channel.public_id})
    assert not NotificationChannel.objects.exists()


def stopped_by(instance, source: str, actor=None, **params) -> None:
    Operation.objects.create(
        instance=instance,
        team=instance.team,
        kind=Kind.STOP,
        status=OperationStatus.SUCCEEDED,
        source=source,
        actor=actor,
        params={"mode": StopMode.STOP_CHARGING, **params},
    )


def test_the_status_line_and_the_list_say_who_stopped_a_host_and_why(alice, bob, team):
    budget = make_instance(team, status=Status.STOPPED, stopped_mode=StopMode.STOP_CHARGING)
    stopped_by(budget, Source.BUDGET)
    idle = make_instance(team, status=Status.STOPPED, stopped_mode=StopMode.STOP_CHARGING)
    stopped_by(idle, Source.IDLE_POLICY, why="GPU under 5 % for 30 min")
    person = make_instance(team, status=Status.STOPPED, stopped_mode=StopMode.KEEP_CHARGING)
    stopped_by(person, Source.DASHBOARD, actor=alice)

    viewer = signed_in(bob)
    listing = viewer.get("/").content.decode()
    assert "Stopped by the budget: the month&#x27;s spend reached it" in listing
    assert "Stopped by the idle policy: GPU under 5 % for 30 min" in listing
    assert "Stopped by alice (Dashboard)" in listing
    detail = viewer.get(f"/instances/{budget.public_id}/").content.decode()
    assert "Stopped by the budget" in detail


def test_nothing_on_a_deleted_hosts_pages_can_be_acted_on(alice, team) -> None:
    gone = make_instance(team, status=Status.DELETED)
    client = signed_in(alice)
    page = client.get(f"/instances/{gone.public_id}/").content.decode()
    assert 'method="post"' not in page.split("</header>", 1)[1].split("<footer", 1)[0]
    files = client.get(f"/instances/{gone.public_id}/files/").content.decode()
    assert "Read the files from the host" not in files and "Dismiss" not in files


def test_an_operation_under_way_shows_its_steps_to_come_near_the_top(alice, team) -> None:
    from django.utils import timezone

    from operations.handlers import HANDLERS

    instance = make_instance(team, status=Status.DEPLOYING)
    steps = HANDLERS[Kind.DEPLOY].steps
    first = {
        "name": steps[0].name,
        "phase": "main",
        "status": "running",
        "started_at": timezone.now().isoformat(),
        "finished_at": None,
        "request_ids": [],
        "note": "",
    }
    Operation.objects.create(
        instance=instance,
        team=team,
        kind=Kind.DEPLOY,
        status=OperationStatus.RUNNING,
        source=Source.API,
        steps=[first],
    )
    page = signed_in(alice).get(f"/instances/{instance.public_id}/").content.decode()
    assert page.count("to come") == len(steps) - 1
    assert str(steps[-1].title) in page
    # The timeline comes before the host's details.
    assert page.index('id="timeline"') < page.index('id="host-title"')


def test_a_stopped_hosts_endpoint_is_not_a_link(alice, team) -> None:
    stopped = make_instance(
        team,
        status=Status.STOPPED,
        stopped_mode=StopMode.STOP_CHARGING,
        webui_endpoint="http://203.0.113.7:7860",
    )
    page = signed_in(alice).get(f"/instances/{stopped.public_id}/").content.decode()
    assert 'href="http://203.0.113.7:7860"' not in page
    assert "http://203.0.113.7:7860" in page and "answers while the host runs" in page
