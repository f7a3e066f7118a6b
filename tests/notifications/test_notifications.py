"""Notifications: channels, delivery by email and webhook, retries, the API."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail

from notifications import services as notifications
from notifications.models import DeliveryStatus, NotificationChannel, NotificationDelivery
from tests.conftest import token_client

pytestmark = pytest.mark.django_db


class Receiver:
    """A local webhook endpoint that records what it gets and answers the queued codes."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.codes: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(json.loads(body))
                code = receiver.codes.pop(0) if receiver.codes else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.server.shutdown()


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # The webhook receiver of these tests listens on 127.0.0.1.
    settings.NESTOPS_WEBHOOK_ALLOW_PRIVATE_URLS = True


def deliver_all() -> None:
    for delivery in NotificationDelivery.objects.filter(status=DeliveryStatus.PENDING):
        notifications.deliver(delivery.pk)


def test_it_emails_and_posts_to_channels_that_want_the_event(team, receiver) -> None:
    NotificationChannel.objects.create(team=team, name="ops", kind="email", target="a@x.io, b@x.io")
    NotificationChannel.objects.create(team=team, name="hook", kind="webhook", target=receiver.url)
    NotificationChannel.objects.create(
        team=team,
        name="budget only",
        kind="webhook",
        target=receiver.url,
        events=["budget.threshold"],
    )
    NotificationChannel.objects.create(
        team=team, name="off", kind="email", target="off@x.io", enabled=False
    )
    created = notifications.notify(
        team=team,
        event="idle.stopped",
        subject="Host stopped",
        message="webui-1 was idle",
        data={"instance": "si-abc"},
    )
    assert len(created) == 2
    deliver_all()
    assert [m.to for m in mail.outbox] == [["a@x.io", "b@x.io"]]
    assert mail.outbox[0].subject == "[nestops] Host stopped"
    assert receiver.received == [
        {
            "event": "idle.stopped",
            "team": "alpha",
            "subject": "Host stopped",
            "message": "webui-1 was idle",
            "data": {"instance": "si-abc"},
            "created_at": next(
                d for d in created if d.channel.kind == "webhook"
            ).created_at.isoformat(),
        }
    ]
    assert set(NotificationDelivery.objects.values_list("status", flat=True)) == {"sent"}


def test_dingtalk_and_slack_payloads(team, receiver) -> None:
    NotificationChannel.objects.create(
        team=team, name="dd", kind="webhook", target=receiver.url, webhook_format="dingtalk"
    )
    NotificationChannel.objects.create(
        team=team, name="sl", kind="webhook", target=receiver.url, webhook_format="slack"
    )
    notifications.notify(team=team, event="test", subject="Hi", message="there")
    deliver_all()
    assert {"msgtype": "markdown", "markdown": {"title": "Hi", "text": "### Hi\n\nthere"}} in (
        receiver.received
    )
    assert {"text": "*Hi*\nthere"} in receiver.received


def test_a_failing_webhook_is_retried_then_given_up(team, receiver) -> None:
    NotificationChannel.objects.create(team=team, name="hook", kind="webhook", target=receiver.url)
    receiver.codes = [500, 502]
    (delivery,) = notifications.notify(team=team, event="test", subject="s", message="m")
    for attempt in (1, 2, 3):
        NotificationDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at="2000-01-01T00:00Z"
        )
        notifications.deliver(delivery.pk)
        delivery.refresh_from_db()
        if attempt < 3:
            assert delivery.status == "pending" and "HTTP 50" in delivery.last_error
    assert delivery.status == "sent" and delivery.attempts == 3
    receiver.codes = [500] * notifications.MAX_ATTEMPTS
    (doomed,) = notifications.notify(team=team, event="test", subject="s", message="m")
    for _ in range(notifications.MAX_ATTEMPTS):
        NotificationDelivery.objects.filter(pk=doomed.pk).update(
            next_attempt_at="2000-01-01T00:00Z"
        )
        notifications.deliver(doomed.pk)
    doomed.refresh_from_db()
    assert doomed.status == "failed" and doomed.attempts == notifications.MAX_ATTEMPTS


def test_a_delivery_is_not_sent_twice(team, receiver) -> None:
    NotificationChannel.objects.create(team=team, name="hook", kind="webhook", target=receiver.url)
    (delivery,) = notifications.notify(team=team, event="test", subject="s", message="m")
    notifications.deliver(delivery.pk)
    notifications.deliver(delivery.pk)
    assert len(receiver.received) == 1


def test_unknown_events_are_a_programming_error(team) -> None:
    with pytest.raises(ValueError):
        notifications.notify(team=team, event="nope", subject="s", message="m")


def test_team_admins_manage_channels_and_members_read_them(
    carol, alice, bob, mallory, receiver
) -> None:
    as_carol, as_alice, as_mallory = token_client(carol), token_client(alice), token_client(mallory)
    body = {
        "team": "alpha",
        "name": "ops",
        "kind": "webhook",
        "target": receiver.url,
        "events": ["idle.stopped", "budget.threshold"],
    }
    assert as_alice.post("/api/v1/notification-channels/", body, format="json").status_code == 403
    created = as_carol.post("/api/v1/notification-channels/", body, format="json")
    assert created.status_code == 201, created.json()
    channel_id = created.json()["id"]
    assert as_alice.get("/api/v1/notification-channels/").json()["results"][0]["id"] == channel_id
    assert as_mallory.get(f"/api/v1/notification-channels/{channel_id}/").status_code == 404
    assert as_alice.delete(f"/api/v1/notification-channels/{channel_id}/").status_code == 403
    tested = as_carol.post(f"/api/v1/notification-channels/{channel_id}/test/")
    assert tested.status_code == 202
    deliver_all()
    assert receiver.received[0]["event"] == "test"
    deliveries = as_carol.get("/api/v1/notification-deliveries/").json()["results"]
    assert deliveries[0]["status"] == "sent"
    assert as_alice.get("/api/v1/notification-deliveries/").json()["results"] == []
    assert as_carol.delete(f"/api/v1/notification-channels/{channel_id}/").status_code == 204


@pytest.mark.parametrize(
    ("kind", "target", "events"),
    [
        ("email", "not-an-address", []),
        ("email", "", []),
        ("webhook", "ftp://x.io/hook", []),
        ("webhook", "file:///etc/passwd", []),
        ("webhook", "http://127.0.0.1:9/x", ["no.such.event"]),
    ],
)
def test_bad_channels_get_field_errors(carol, kind, target, events) -> None:
    response = token_client(carol).post(
        "/api/v1/notification-channels/",
        {"team": "alpha", "name": "x", "kind": kind, "target": target, "events": events},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize(
    ("target", "allow_private", "accepted"),
    [
        ("http://100.100.100.200/latest/meta-data", True, False),
        ("http://169.254.169.254/hook", True, False),
        ("http://127.0.0.1:9/hook", False, False),
        ("http://10.1.2.3/hook", False, False),
        ("http://10.1.2.3/hook", True, True),
        ("https://oapi.dingtalk.com/robot/send?access_token=x", False, True),
    ],
)
def test_webhooks_to_metadata_never_and_to_private_addresses_only_when_allowed(
    carol, settings, target, allow_private, accepted
) -> None:
    settings.NESTOPS_WEBHOOK_ALLOW_PRIVATE_URLS = allow_private
    response = token_client(carol).post(
        "/api/v1/notification-channels/",
        {"team": "alpha", "name": "x", "kind": "webhook", "target": target},
        format="json",
    )
    assert (response.status_code == 201) is accepted, response.json()
