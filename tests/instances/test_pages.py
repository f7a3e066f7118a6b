"""Dashboard pages through Django's test client: who sees what, forms that keep input."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditAction, AuditEvent, UserPreference
from instances.models import Status
from operations.models import Kind, Operation
from tests.factories import make_instance

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def running(team):
    return make_instance(team, status=Status.RUNNING, webui_endpoint="http://127.0.0.1:9/x")


def test_pages_need_a_login(client, running) -> None:
    for path in (
        "/",
        f"/instances/{running.public_id}/",
        "/instances/new/",
        "/operations/",
        "/account/tokens/",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_list_shows_the_teams_instances_with_their_state(alice, running) -> None:
    response = client_for(alice).get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert running.name in body and running.public_id in body
    assert "Open WebUI" in body and "Running" in body


def test_the_list_filters_and_searches(alice, team) -> None:
    make_instance(team, name="alpha-one", status=Status.STOPPED)
    make_instance(team, name="beta-two", status=Status.RUNNING, region="cn-shanghai")
    client = client_for(alice)
    assert "beta-two" not in client.get("/?search=alpha").content.decode()
    assert "alpha-one" not in client.get("/?status=running").content.decode()
    assert "alpha-one" not in client.get("/?region=cn-shanghai").content.decode()
    assert "No instance matches" in client.get("/?search=nothing-like-this").content.decode()


def test_the_list_polls_only_while_something_is_in_progress(alice, team, running) -> None:
    client = client_for(alice)
    assert 'hx-trigger="every 3s"' not in client.get("/").content.decode()
    Operation.objects.create(instance=running, team=team, kind=Kind.STOP, source="api")
    assert 'hx-trigger="every 3s"' in client.get("/").content.decode()


def test_the_list_costs_a_constant_number_of_queries(alice, team) -> None:
    client = client_for(alice)
    client.get("/")
    for _ in range(5):
        make_instance(team)
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    for _ in range(40):
        instance = make_instance(team)
        Operation.objects.create(instance=instance, team=team, kind=Kind.STOP, source="api")
    with CaptureQueriesContext(connection) as many:
        client.get("/")
    assert len(many) == len(few) <= 10


def test_an_outsider_gets_the_404_page(mallory, running) -> None:
    response = client_for(mallory).get(f"/instances/{running.public_id}/")
    assert response.status_code == 404
    assert "not yours to see" in response.content.decode()


def test_a_viewer_sees_but_cannot_act(bob, running) -> None:
    client = client_for(bob)
    page = client.get(f"/instances/{running.public_id}/").content.decode()
    assert "Delete…" not in page and "Reveal the password" not in page
    for action in ("stop", "restart", "delete"):
        response = client.post(
            f"/instances/{running.public_id}/{action}/", {"mode": "StopCharging"}
        )
        assert response.status_code == 403
    assert client.post(f"/instances/{running.public_id}/credentials/").status_code == 403
    assert client.get("/instances/new/").status_code == 403
    assert not Operation.objects.exists()


def test_an_operator_stops_from_the_page(alice, running) -> None:
    client = client_for(alice)
    response = client.post(
        f"/instances/{running.public_id}/stop/", {"mode": "KeepCharging"}, follow=True
    )
    assert "Stop requested" in response.content.decode()
    operation = Operation.objects.get()
    assert (operation.kind, operation.source, operation.params["mode"]) == (
        "stop",
        "dashboard",
        "KeepCharging",
    )
    again = client.post(f"/instances/{running.public_id}/restart/", follow=True).content.decode()
    assert operation.public_id in again  # the conflict names the active operation


def test_delete_needs_the_exact_name(alice, running) -> None:
    client = client_for(alice)
    wrong = client.post(
        f"/instances/{running.public_id}/delete/", {"confirm_name": "nope"}, follow=True
    )
    assert "Type the instance" in wrong.content.decode()
    assert not Operation.objects.exists()
    client.post(f"/instances/{running.public_id}/delete/", {"confirm_name": running.name})
    assert Operation.objects.get().kind == "delete"


def test_credentials_are_revealed_on_request_and_audited(alice, running) -> None:
    client = client_for(alice)
    page = client.get(f"/instances/{running.public_id}/").content.decode()
    assert "secret-password-value" not in page
    revealed = client.post(f"/instances/{running.public_id}/credentials/", HTTP_HX_REQUEST="true")
    assert "secret-password-value" in revealed.content.decode()
    assert (
        revealed["Cache-Control"].startswith("no-store") or "no-store" in revealed["Cache-Control"]
    )
    assert (
        AuditEvent.objects.filter(action=AuditAction.CREDENTIALS_REVEALED, actor=alice).count() == 1
    )


def test_the_live_region_asks_for_a_reload_when_the_operation_ends(alice, running) -> None:
    client = client_for(alice)
    response = client.get(f"/instances/{running.public_id}/?was_live=1", HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true"


def test_the_language_is_remembered_per_user(alice, running) -> None:
    client = client_for(alice)
    client.post("/account/language/", {"language": "zh-hans", "next": "/"})
    assert UserPreference.objects.get(user=alice).language == "zh-hans"
    other_browser = client_for(alice)
    body = other_browser.get("/").content.decode()
    assert "实例" in body and "运行中" in body and 'lang="zh-Hans"' in body
    other_browser.post("/account/language/", {"language": "xx"})
    assert UserPreference.objects.get(user=alice).language == "zh-hans"


def test_the_language_menu_names_each_language_in_itself(alice, running) -> None:
    client = client_for(alice)
    for language in ("en", "zh-hans"):
        client.post("/account/language/", {"language": language, "next": "/"})
        menu = re.search(
            r'<select id="language-switcher".*?</select>', client.get("/").content.decode(), re.S
        )
        assert menu, "no language menu"
        options = re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', menu.group(0))
        assert options == [("en", "English"), ("zh-hans", "简体中文")], (language, options)


def test_the_team_switcher_shows_only_the_users_teams(alice, other_team, mallory, team) -> None:
    from accounts.models import Membership

    Membership.objects.create(user=alice, team=other_team, role="viewer")
    make_instance(other_team, name="other-host")
    client = client_for(alice)
    assert 'id="team-switcher"' in client.get("/").content.decode()
    client.post("/account/team/", {"team": "other"})
    assert "other-host" in client.get("/").content.decode()
    assert client_for(mallory).post("/account/team/", {"team": "alpha"}).status_code == 403


def test_tokens_are_shown_once_and_revoked(alice) -> None:
    client = client_for(alice)
    created = client.post("/account/tokens/", {"name": "laptop"}).content.decode()
    token = re.search(r'value="(nst_[^"]+)"', created).group(1)
    listing = client.get("/account/tokens/").content.decode()
    assert token not in listing and "laptop" in listing
    from accounts.models import ApiToken

    public_id = ApiToken.objects.get(name="laptop").public_id
    client.post(f"/account/tokens/{public_id}/revoke/")
    assert ApiToken.objects.get(name="laptop").revoked_at is not None


def test_team_admins_manage_members_and_keep_one_admin(carol, alice, bob) -> None:
    admin = client_for(carol)
    admin.post("/account/members/bob/", {"role": "operator"})
    from accounts.models import Membership

    assert Membership.objects.get(user=bob).role == "operator"
    response = admin.post("/account/members/carol/", {"role": "viewer"}, follow=True)
    assert "at least one admin" in response.content.decode()
    assert client_for(alice).post("/account/members/bob/", {"role": "admin"}).status_code == 403


class LabelAudit(HTMLParser):
    """Finds form controls with no label: neither label[for], nor a wrapping label, nor
    aria-label."""

    def __init__(self) -> None:
        super().__init__()
        self.label_depth = 0
        self.for_ids: set[str] = set()
        self.controls: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "label":
            self.label_depth += 1
            if attributes.get("for"):
                self.for_ids.add(attributes["for"])
        elif tag in ("input", "select", "textarea"):
            if attributes.get("type") in ("hidden", "submit"):
                return
            if self.label_depth == 0 and "aria-label" not in attributes:
                self.controls.append((tag, attributes))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth -= 1

    def unlabelled(self) -> list[str]:
        return [
            f"<{tag} {attributes}>"
            for tag, attributes in self.controls
            if attributes.get("id") not in self.for_ids
        ]


def test_every_form_control_has_a_label(alice, running, sim) -> None:
    client = client_for(alice)
    for path in (
        "/",
        f"/instances/{running.public_id}/",
        "/instances/new/",
        "/operations/",
        "/account/tokens/",
        "/account/members/",
    ):
        audit = LabelAudit()
        audit.feed(client.get(path).content.decode())
        assert audit.unlabelled() == [], path


def test_pages_load_nothing_from_another_host(alice, running, sim) -> None:
    client = client_for(alice)
    for path in (
        "/",
        f"/instances/{running.public_id}/",
        "/instances/new/",
        "/operations/",
        "/account/tokens/",
        "/accounts/login/",
        "/api/v1/docs/",
    ):
        html = client.get(path).content.decode()
        loaded = re.findall(r'<(?:script|img|iframe)[^>]*\bsrc="([^"]+)"', html) + re.findall(
            r'<link[^>]*\bhref="([^"]+)"', html
        )
        assert loaded, path
        assert [url for url in loaded if not url.startswith("/")] == [], path
        assert "@import" not in html and "fonts.googleapis" not in html


def test_times_follow_the_users_time_zone(alice, running) -> None:
    client = client_for(alice)
    response = client.post("/account/preferences/", {"time_zone": "Asia/Shanghai"}, follow=True)
    assert "Preferences saved" in response.content.decode()
    assert UserPreference.objects.get(user=alice).time_zone == "Asia/Shanghai"
    from django.utils import timezone

    local = timezone.localtime(
        running.created_at, timezone=__import__("zoneinfo").ZoneInfo("Asia/Shanghai")
    )
    page = client.get(f"/instances/{running.public_id}/").content.decode()
    assert f"{local:%H:%M}" in page or f"{local:%-I:%M}" in page
    bad = client.post("/account/preferences/", {"time_zone": "Mars/Olympus"})
    assert "valid choice" in bad.content.decode()


def test_long_lists_are_paged(alice, team) -> None:
    for _ in range(51):
        make_instance(team)
    client = client_for(alice)
    first = client.get("/").content.decode()
    assert "Page 1 of 2" in first and "page=2" in first
    second = client.get("/?page=2").content.decode()
    assert "Page 2 of 2" in second and second.count("<tr>") == 2  # the header and one row


def test_the_timeline_shows_the_newest_logs_and_links_the_older_ones(alice, team, running) -> None:
    for n in range(8):
        Operation.objects.create(
            instance=running,
            team=team,
            kind=Kind.RESTART,
            source="api",
            status="succeeded",
            log=f"log line of operation {n}\n",
        )
    client = client_for(alice)
    page = client.get(f"/instances/{running.public_id}/").content.decode()
    assert all(f"log line of operation {n}" in page for n in (3, 4, 5, 6, 7))
    assert not any(f"log line of operation {n}" in page for n in (0, 1, 2))
    assert page.count("Log and details") == 3
    with CaptureQueriesContext(connection) as few:
        client.get(f"/instances/{running.public_id}/", HTTP_HX_REQUEST="true")
    for _ in range(10):
        Operation.objects.create(
            instance=running,
            team=team,
            kind=Kind.RESTART,
            source="api",
            status="succeeded",
            log="more",
        )
    with CaptureQueriesContext(connection) as many:
        client.get(f"/instances/{running.public_id}/", HTTP_HX_REQUEST="true")
    assert len(many) == len(few)


def test_lists_share_the_api_filters_and_say_what_is_wrong(alice, team) -> None:
    make_instance(team, name="kept-one", status=Status.RUNNING)
    make_instance(team, name="gone-one", status=Status.DELETED)
    client = Client()
    client.force_login(alice)
    page = client.get("/?search=one").content.decode()
    assert "kept-one" in page and "gone-one" not in page
    assert "gone-one" in client.get("/?search=one&include_deleted=true").content.decode()
    assert "Use true or false" in client.get("/?include_deleted=175355948183").content.decode()
    operations = client.get("/operations/?since=yesterday").content.decode()
    assert "Use a day" in operations
