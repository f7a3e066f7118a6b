"""Webhooks through the outbound address policy, against loopback canaries that count what
reaches them: checked at connect time, redirects never followed, remote bodies never shown,
credentials in the URL kept encrypted and shown redacted."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection

from nestops import addresses
from notifications import services as notifications
from notifications.models import DeliveryStatus, NotificationChannel, NotificationDelivery
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

INTERNAL_BODY = "aws_secret_access_key=INTERNAL-CREDENTIALS"


class Canary:
    """A webhook endpoint on 127.0.0.1 that records each request's path and answers
    ``status`` (with ``location`` and an internal-looking body)."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.status = 200
        self.location = ""
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                canary.seen.append(self.path)
                self.send_response(canary.status)
                if canary.location:
                    self.send_header("Location", canary.location)
                self.end_headers()
                self.wfile.write(INTERNAL_BODY.encode())

            do_GET = do_POST

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def canary() -> Iterator[Canary]:
    found = Canary()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture(autouse=True)
def private_off(settings) -> None:
    settings.NESTOPS_WEBHOOK_ALLOW_PRIVATE_URLS = False
    settings.NESTOPS_WEBHOOK_PROXY = None


def send(team, target: str) -> NotificationDelivery:
    NotificationChannel.objects.create(team=team, name="hook", kind="webhook", target=target)
    (delivery,) = notifications.notify(team=team, event="test", subject="s", message="m")
    notifications.deliver(delivery.pk)
    delivery.refresh_from_db()
    return delivery


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "[::ffff:127.0.0.1]", "[::127.0.0.1]", "2130706433", "127.1", "localhost."],
)
def test_a_saved_channel_to_loopback_reaches_nothing(team, canary, host) -> None:
    # Saved before the policy existed (or in the admin): the sender checks again.
    delivery = send(team, f"http://{host}:{canary.port}/hook")
    assert canary.seen == []
    assert delivery.status == DeliveryStatus.PENDING
    assert "refused by the outbound address policy" in delivery.last_error


def loopback_name() -> str:
    """A name that is not local by its spelling but resolves to loopback here (the machine's
    own name, from /etc/hosts)."""
    name = socket.gethostname()
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)}
    except socket.gaierror:
        pytest.skip("the machine's name does not resolve")
    if resolved != {"127.0.0.1"} or not addresses.LABEL.match(name) or "." in name:
        pytest.skip("the machine's name does not resolve to 127.0.0.1 alone")
    return name


def test_a_name_that_resolves_to_loopback_is_caught_when_connecting(
    team, canary, tmp_path, monkeypatch, settings
) -> None:
    name = loopback_name()
    # The saved check reads /etc/hosts too; without it, only the connect-time check is left.
    (tmp_path / "hosts").write_text("")
    monkeypatch.setattr(addresses, "HOSTS_FILE", str(tmp_path / "hosts"))
    delivery = send(team, f"http://{name}:{canary.port}/hook")
    assert canary.seen == []
    assert delivery.last_error == "refused by the outbound address policy (private)"
    # The same name reaches the canary where private addresses are allowed.
    settings.NESTOPS_WEBHOOK_ALLOW_PRIVATE_URLS = True
    NotificationDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at="2000-01-01T00:00Z")
    notifications.deliver(delivery.pk)
    assert canary.seen == ["/hook"]


def test_a_redirect_is_never_followed(team, canary, settings) -> None:
    settings.NESTOPS_WEBHOOK_ALLOW_PRIVATE_URLS = True
    canary.status = 302
    canary.location = f"http://127.0.0.1:{canary.port}/internal"
    delivery = send(team, f"http://127.0.0.1:{canary.port}/hook")
    assert canary.seen == ["/hook"]
    assert delivery.last_error == "HTTP 302: redirects are not followed"


@pytest.mark.parametrize("status", [200, 500])
def test_the_remote_body_never_reaches_last_error(team, canary, settings, status) -> None:
    settings.NESTOPS_WEBHOOK_ALLOW_PRIVATE_URLS = True
    canary.status = status
    channel = NotificationChannel.objects.create(
        team=team,
        name="dd",
        kind="webhook",
        target=f"http://127.0.0.1:{canary.port}/hook",
        webhook_format="dingtalk",
    )
    (delivery,) = notifications.notify(
        team=team, event="test", subject="s", message="m", channel=channel
    )
    notifications.deliver(delivery.pk)
    delivery.refresh_from_db()
    # A 200 with a body DingTalk would not send is taken as sent; a 500 shows its code only.
    assert INTERNAL_BODY not in delivery.last_error
    assert delivery.last_error == ("" if status == 200 else "HTTP 500")


def test_metadata_spellings_are_refused_when_saved(carol, settings) -> None:
    settings.NESTOPS_WEBHOOK_ALLOW_PRIVATE_URLS = True
    for host in (
        "[::ffff:100.100.100.200]",
        "[::ffff:6464:64c8]",
        "[64:ff9b::6464:64c8]",
        "1684301000",
        "169.254.169.254",
    ):
        response = token_client(carol).post(
            "/api/v1/notification-channels/",
            {
                "team": "alpha",
                "name": "x",
                "kind": "webhook",
                "target": f"http://{host}/latest/meta-data/ram/security-credentials/",
            },
            format="json",
        )
        assert response.status_code == 400, (host, response.json())
    assert not NotificationChannel.objects.exists()


def test_credentials_in_a_webhook_url_are_kept_encrypted_and_shown_redacted(
    team, carol, alice, canary, settings
) -> None:
    settings.NESTOPS_WEBHOOK_ALLOW_PRIVATE_URLS = True
    url = f"http://127.0.0.1:{canary.port}/robot/send?access_token=s3cr3t-t0ken&x=1"
    created = token_client(carol).post(
        "/api/v1/notification-channels/",
        {"team": "alpha", "name": "dd", "kind": "webhook", "target": url},
        format="json",
    )
    assert created.status_code == 201, created.json()
    redacted = f"http://127.0.0.1:{canary.port}/robot/send?access_token=REDACTED&x=1"
    assert created.json()["target"] == redacted
    for user in (carol, alice):
        listed = token_client(user).get("/api/v1/notification-channels/").json()["results"]
        assert listed[0]["target"] == redacted
        assert "s3cr3t" not in str(listed)
    channel = NotificationChannel.objects.get()
    assert channel.target == redacted and channel.target_secret == url
    with connection.cursor() as cursor:
        cursor.execute("SELECT target, target_secret FROM nestops_notificationchannel")
        assert "s3cr3t" not in str(cursor.fetchall())  # encrypted at rest
    # Renaming the channel keeps the credentials; the sender posts to the full URL.
    renamed = token_client(carol).patch(
        f"/api/v1/notification-channels/{channel.public_id}/",
        {"name": "dingtalk", "target": redacted},
        format="json",
    )
    assert renamed.status_code == 200, renamed.json()
    channel.refresh_from_db()
    assert channel.webhook_url() == url
    (delivery,) = notifications.notify(team=team, event="test", subject="s", message="m")
    notifications.deliver(delivery.pk)
    assert canary.seen == ["/robot/send?access_token=s3cr3t-t0ken&x=1"]
    # A target changed elsewhere (the admin) is not overridden by the old secret.
    channel.target = f"http://127.0.0.1:{canary.port}/other"
    assert channel.webhook_url() == channel.target
