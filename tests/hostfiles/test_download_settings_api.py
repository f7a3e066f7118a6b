"""``/api/v1/teams/{slug}/download-settings/``: members read the team's values, the server's
defaults and what applies; team admins change them with the rules the settings page uses; the
values follow into what the hosts are asked to do."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditAction, AuditEvent
from accounts.requester import Requester, Source
from hostfiles import services as host_files
from hostfiles.models import TeamFileSettings
from hostfiles.selectors import download_defaults
from tests.conftest import token_client
from tests.factories import make_instance

pytestmark = pytest.mark.django_db

URL = "/api/v1/teams/alpha/download-settings/"
MIRROR = "https://hf-mirror.com"
GHPROXY = "https://ghproxy.example/"


@pytest.fixture(autouse=True)
def server_defaults(settings) -> None:
    settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS = False
    settings.NESTOPS_GITHUB_MIRROR = ""
    settings.NESTOPS_HUGGINGFACE_ENDPOINT = ""
    settings.NESTOPS_DOWNLOAD_CONNECTIONS = 16


@pytest.fixture
def as_carol(carol):
    return token_client(carol)


def signed_in_page(user) -> str:
    client = Client()
    client.force_login(user)
    return client.get("/account/downloads/").content.decode()


def test_a_member_reads_the_server_defaults_when_the_team_set_nothing(as_bob, team) -> None:
    response = as_bob.get(URL)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "team": "alpha",
        "github_mirror": None,
        "huggingface_endpoint": None,
        "download_connections": None,
        "server_defaults": {
            "github_mirror": "",
            "huggingface_endpoint": "https://huggingface.co",
            "download_connections": 16,
        },
        "effective": {
            "github_mirror": {"value": "", "origin": "server", "setting": "NESTOPS_GITHUB_MIRROR"},
            "huggingface_endpoint": {
                "value": "https://huggingface.co",
                "origin": "server",
                "setting": "NESTOPS_HUGGINGFACE_ENDPOINT",
            },
            "download_connections": {
                "value": 16,
                "origin": "server",
                "setting": "NESTOPS_DOWNLOAD_CONNECTIONS",
            },
        },
        "updated_by": None,
        "updated_at": None,
    }


def test_an_admin_changes_the_settings_and_the_page_and_the_hosts_follow(
    as_carol, as_bob, alice, carol, team, settings
) -> None:
    settings.NESTOPS_GITHUB_MIRROR = "https://server-mirror.example/"
    changed = as_carol.patch(
        URL,
        {"huggingface_endpoint": MIRROR + "/", "download_connections": 4},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    # Normalised as the page saves it (no trailing / on the endpoint).
    assert (body["huggingface_endpoint"], body["download_connections"]) == (MIRROR, 4)
    assert body["github_mirror"] is None
    assert body["updated_by"] == "carol" and body["updated_at"]
    assert body["effective"]["huggingface_endpoint"] == {
        "value": MIRROR,
        "origin": "team",
        "setting": "NESTOPS_HUGGINGFACE_ENDPOINT",
    }
    assert body["effective"]["download_connections"]["value"] == 4
    assert body["effective"]["github_mirror"] == {
        "value": "https://server-mirror.example/",
        "origin": "server",
        "setting": "NESTOPS_GITHUB_MIRROR",
    }
    assert as_bob.get(URL).json() == body

    row = TeamFileSettings.objects.get(team=team)
    assert (row.huggingface_endpoint, row.download_connections, row.updated_by) == (
        MIRROR,
        4,
        carol,
    )
    event = AuditEvent.objects.get(team=team, action=AuditAction.FILE_SETTINGS_CHANGED)
    assert event.actor == carol and event.target == "alpha"
    assert event.details == {
        "github_mirror": "",
        "huggingface_endpoint": MIRROR,
        "download_connections": 4,
    }

    # The page shows what the API set; downloads and extension installs use it.
    page = signed_in_page(carol)
    assert MIRROR in page and 'value="4"' in page
    instance = make_instance(team)
    download, _created = host_files.request_download(
        instance=instance,
        source="huggingface",
        repo="o/n",
        file="x.safetensors",
        kind="lora",
        requester=Requester(source=Source.API, actor=alice),
    )
    assert download.params["url"] == f"{MIRROR}/o/n/resolve/main/x.safetensors"
    assert download.params["connections"] == 4

    # A PATCH names one setting; the others keep their values.
    mirrored = as_carol.patch(URL, {"github_mirror": "https://ghproxy.example"}, format="json")
    assert mirrored.status_code == 200, mirrored.content
    assert mirrored.json()["github_mirror"] == GHPROXY
    assert mirrored.json()["huggingface_endpoint"] == MIRROR
    assert mirrored.json()["effective"]["github_mirror"]["origin"] == "team"
    install, _created = host_files.request_extension_install(
        instance=instance,
        url="https://github.com/owner/repo",
        requester=Requester(source=Source.API, actor=alice),
    )
    assert install.params["fetch_url"] == f"{GHPROXY}https://github.com/owner/repo"


def test_put_sets_all_three_and_requires_them(as_carol, team) -> None:
    missing = as_carol.put(URL, {"download_connections": 2}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()["details"]) == {"github_mirror", "huggingface_endpoint"}
    assert not TeamFileSettings.objects.exists()

    saved = as_carol.put(
        URL,
        {"github_mirror": GHPROXY, "huggingface_endpoint": MIRROR, "download_connections": "8"},
        format="json",
    )
    assert saved.status_code == 200, saved.content
    assert (
        saved.json()["github_mirror"],
        saved.json()["huggingface_endpoint"],
        saved.json()["download_connections"],
    ) == (GHPROXY, MIRROR, 8)


@pytest.mark.parametrize("empty", [None, ""])
def test_null_or_an_empty_value_puts_each_setting_back_to_the_server_default(
    as_carol, carol, team, empty
) -> None:
    host_files.set_download_settings(
        team=team,
        github_mirror=GHPROXY,
        huggingface_endpoint=MIRROR,
        download_connections=4,
        requester=Requester(source=Source.DASHBOARD, actor=carol),
    )
    reset = as_carol.patch(
        URL,
        {"github_mirror": empty, "huggingface_endpoint": empty, "download_connections": empty},
        format="json",
    )
    assert reset.status_code == 200, reset.content
    body = reset.json()
    assert (body["github_mirror"], body["huggingface_endpoint"], body["download_connections"]) == (
        None,
        None,
        None,
    )
    assert {setting["origin"] for setting in body["effective"].values()} == {"server"}
    assert body["effective"]["huggingface_endpoint"]["value"] == "https://huggingface.co"
    assert body["effective"]["download_connections"]["value"] == 16
    row = TeamFileSettings.objects.get(team=team)
    assert (row.github_mirror, row.huggingface_endpoint, row.download_connections) == ("", "", None)
    defaults = download_defaults(team.pk)
    assert not any(
        value.from_team
        for value in (defaults.github_mirror, defaults.huggingface_endpoint, defaults.connections)
    )


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"huggingface_endpoint": "http://169.254.169.254"}, "huggingface_endpoint", "cannot"),
        ({"huggingface_endpoint": "https://10.1.2.3"}, "huggingface_endpoint", "private"),
        ({"huggingface_endpoint": "https://hf-mirror.com/?x=1"}, "huggingface_endpoint", "Give"),
        ({"github_mirror": "http://ghproxy.example/"}, "github_mirror", "only https"),
        ({"github_mirror": "https://user:pw@ghproxy.example/"}, "github_mirror", "password"),
        ({"github_mirror": "ftp://ghproxy.example/"}, "github_mirror", "cannot be used"),
        ({"download_connections": 0}, "download_connections", "from 1 to 16"),
        ({"download_connections": 17}, "download_connections", "from 1 to 16"),
        ({"download_connections": "many"}, "download_connections", "integer"),
        ({"download_connections": 2.5}, "download_connections", "integer"),
        ({"download_connections": True}, "download_connections", ""),
    ],
)
def test_a_bad_value_is_a_400_naming_the_field_and_changes_nothing(
    as_carol, team, body, field, message
) -> None:
    response = as_carol.patch(URL, body, format="json")
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["code"] == "invalid"
    assert set(answer["details"]) == {field}
    assert message in " ".join(answer["details"][field])
    assert answer["message"].startswith(f"{field}: ")
    assert not TeamFileSettings.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.FILE_SETTINGS_CHANGED).exists()


def test_a_refused_url_gets_the_settings_pages_message_with_the_reason(as_carol, team) -> None:
    response = as_carol.patch(
        URL, {"github_mirror": "http://169.254.169.254/"}, format="json"
    ).json()
    assert response["message"].startswith("github_mirror: This mirror cannot be used: ")
    assert response["details"]["github_mirror"] == [response["message"].split(": ", 1)[1]]


def test_unknown_and_read_only_fields_are_refused(as_carol, team) -> None:
    unknown = as_carol.patch(URL, {"download_conections": 4}, format="json")
    assert unknown.status_code == 400
    assert "Unknown field" in unknown.json()["details"]["download_conections"][0]
    assert "download_connections" in unknown.json()["details"]["download_conections"][0]
    read_only = as_carol.patch(URL, {"effective": {}, "download_connections": 4}, format="json")
    assert read_only.status_code == 400
    assert read_only.json()["details"] == {"effective": ["This field is read-only."]}
    assert not TeamFileSettings.objects.exists()


def test_an_empty_patch_changes_nothing_and_writes_no_event(as_carol, team) -> None:
    response = as_carol.patch(URL, {}, format="json")
    assert response.status_code == 200
    assert response.json()["updated_by"] is None
    assert not TeamFileSettings.objects.exists()
    assert not AuditEvent.objects.exists()


def test_viewers_and_operators_read_but_may_not_change(as_alice, as_bob, team) -> None:
    for client in (as_alice, as_bob):
        assert client.get(URL).status_code == 200
        for method in ("patch", "put"):
            response = getattr(client, method)(
                URL,
                {"github_mirror": "", "huggingface_endpoint": "", "download_connections": 2},
                format="json",
            )
            assert response.status_code == 403, method
            assert response.json()["code"] == "permission_denied"
    assert not TeamFileSettings.objects.exists()


def test_an_outsider_gets_404_and_an_unknown_team_too(as_mallory, as_carol, team) -> None:
    for method in ("get", "patch", "put"):
        response = getattr(as_mallory, method)(URL, {"download_connections": 2}, format="json")
        assert response.status_code == 404, method
        assert response.json()["code"] == "not_found"
    assert as_carol.get("/api/v1/teams/nobody/download-settings/").status_code == 404
    assert not TeamFileSettings.objects.exists()


def test_anonymous_requests_are_refused(anonymous, team) -> None:
    for method in ("get", "patch", "put"):
        response = getattr(anonymous, method)(URL, {"download_connections": 2}, format="json")
        assert response.status_code == 401, method
        assert set(response.json()) == {"code", "message", "details"}
    assert not TeamFileSettings.objects.exists()


def test_the_server_defaults_and_effective_values_follow_the_settings(
    as_bob, carol, team, settings
) -> None:
    settings.NESTOPS_HUGGINGFACE_ENDPOINT = MIRROR
    settings.NESTOPS_DOWNLOAD_CONNECTIONS = 8
    body = as_bob.get(URL).json()
    assert body["server_defaults"]["huggingface_endpoint"] == MIRROR
    assert body["effective"]["huggingface_endpoint"]["value"] == MIRROR
    assert body["effective"]["download_connections"] == {
        "value": 8,
        "origin": "server",
        "setting": "NESTOPS_DOWNLOAD_CONNECTIONS",
    }
    host_files.set_download_settings(
        team=team,
        download_connections=3,
        requester=Requester(source=Source.DASHBOARD, actor=carol),
    )
    body = as_bob.get(URL).json()
    assert body["effective"]["download_connections"]["value"] == 3
    assert body["server_defaults"]["download_connections"] == 8
    assert body["effective"]["huggingface_endpoint"]["origin"] == "server"
