"""The WebUI's language: chosen at deploy (default: the user's dashboard language), changed
later by an operation that writes the WebUI's setting and restarts it; the simulated WebUI
reports it at /sdapi/v1/options."""

from __future__ import annotations

import base64
import json
import urllib.request

import pytest

from accounts.models import UserPreference
from accounts.requester import Requester, Source
from instances.models import WebUILanguage
from operations.models import Kind, OperationStatus
from operations.services import request_operation
from tests.driving import deploy, drive

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fast_runner(settings):
    settings.NESTOPS_POLL_SECONDS = 0.05
    settings.NESTOPS_WEBUI_READY_TIMEOUT_SECONDS = 30


def webui_language(instance) -> str:
    request = urllib.request.Request(instance.webui_endpoint + "/sdapi/v1/options")
    token = base64.b64encode(f"{instance.webui_user}:{instance.webui_password}".encode())
    request.add_header("Authorization", f"Basic {token.decode()}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=5) as response:
        return json.load(response)["localization"]


def test_a_deploy_in_chinese_sets_the_webuis_localization_and_it_can_be_changed(
    sim, team, alice
) -> None:
    instance, operation = deploy(team, alice, sim, name="lang-zh", webui_language="zh_CN")
    assert drive(operation, sim).status == OperationStatus.SUCCEEDED, operation.log
    instance.refresh_from_db()
    assert instance.webui_language == WebUILanguage.ZH_CN
    assert webui_language(instance) == "zh_CN"
    change, _created = request_operation(
        instance=instance,
        kind=Kind.SET_WEBUI_LANGUAGE,
        params={"language": "en", "target": "config.json"},
        requester=Requester(source=Source.API, actor=alice),
    )
    assert drive(change, sim).status == OperationStatus.SUCCEEDED, change.log
    instance.refresh_from_db()
    assert instance.webui_language == WebUILanguage.EN
    assert webui_language(instance) == "None"


def test_the_default_follows_the_users_dashboard_language(sim, team, alice) -> None:
    UserPreference.objects.update_or_create(user=alice, defaults={"language": "zh-hans"})
    instance, operation = deploy(team, alice, sim, name="lang-default")
    assert instance.webui_language == WebUILanguage.ZH_CN
    assert drive(operation, sim).status == OperationStatus.SUCCEEDED, operation.log
    instance.refresh_from_db()
    assert webui_language(instance) == "zh_CN"


def test_the_api_changes_the_language_of_a_running_host(sim, team, alice, as_alice) -> None:
    instance, operation = deploy(team, alice, sim, name="lang-api", webui_language="en")
    assert drive(operation, sim).status == OperationStatus.SUCCEEDED
    instance.refresh_from_db()
    assert webui_language(instance) == "None"
    bad = as_alice.post(
        f"/api/v1/instances/{instance.public_id}/webui-language/",
        {"language": "fr"},
        format="json",
    )
    assert bad.status_code == 400
    accepted = as_alice.post(
        f"/api/v1/instances/{instance.public_id}/webui-language/",
        {"language": "zh_CN"},
        format="json",
    )
    assert accepted.status_code == 202, accepted.content
    from operations.models import Operation

    change = Operation.objects.get(public_id=accepted.json()["id"])
    assert drive(change, sim).status == OperationStatus.SUCCEEDED, change.log
    instance.refresh_from_db()
    assert webui_language(instance) == "zh_CN"
