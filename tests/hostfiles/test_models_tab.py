"""The instance page's Models & extensions tab: who sees and does what, and what each form
starts. The operations themselves run in tests/operations against cloudsim."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from PIL import Image

from accounts.preferences import preference
from accounts.requester import Source
from hostfiles.models import Extension, ModelFile
from instances.models import Status
from operations.models import Kind, Operation
from tests.factories import make_instance
from tests.instances.test_pages import LabelAudit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def public_sources(settings) -> None:
    settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS = False
    settings.NESTOPS_EXTENSION_HOSTS = ["github.com"]


@pytest.fixture
def running(team):
    instance = make_instance(team, status=Status.RUNNING)
    ModelFile.objects.create(
        instance=instance,
        kind="lora",
        path="models/Lora/ink-style.safetensors",
        name="ink-style.safetensors",
        size_bytes=151_000_000,
        sha256="ab" * 32,
    )
    Extension.objects.create(
        instance=instance,
        name="sd-webui-controlnet",
        remote_url="https://github.com/Mikubill/sd-webui-controlnet",
        commit="c" * 40,
    )
    return instance


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(instance) -> str:
    return f"/instances/{instance.public_id}/files/"


def test_anonymous_is_sent_to_sign_in_and_an_outsider_gets_404(running, mallory) -> None:
    assert Client().get(page(running)).status_code == 302
    outsider = signed_in(mallory)
    assert outsider.get(page(running)).status_code == 404
    response = outsider.post(f"{page(running)}download/", {"url": "https://x/y.safetensors"})
    assert response.status_code == 404
    assert not Operation.objects.exists()


def test_a_viewer_sees_the_lists_but_no_form(running, bob) -> None:
    client = signed_in(bob)
    response = client.get(page(running))
    assert response.status_code == 200
    html = response.content.decode()
    assert "ink-style.safetensors" in html and "144.0\xa0MB" in html
    assert "sd-webui-controlnet" in html
    assert 'aria-current="page">Models and extensions</a>' in html
    assert "Download a model" not in html and "Delete…" not in html
    model = ModelFile.objects.get()
    for path in (
        f"{page(running)}download/",
        f"{page(running)}refresh/",
        f"/instances/{running.public_id}/models/{model.public_id}/delete/",
    ):
        assert client.post(path, {}).status_code == 403
    assert not Operation.objects.exists()


def test_every_control_of_the_tab_has_a_label(running, alice) -> None:
    html = signed_in(alice).get(page(running)).content.decode()
    audit = LabelAudit()
    audit.feed(html)
    assert audit.unlabelled() == []
    # The audit saw the forms and the dialogs of the rows.
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    for field in ("download-url", "download-kind", "download-sha256", "extension-url"):
        assert f'for="{field}"' in html
    assert 'name="image"' in html and 'name="restart_webui"' in html


def test_an_operator_downloads_installs_refreshes_and_acts_on_rows(running, alice) -> None:
    client = signed_in(alice)
    model = ModelFile.objects.get()
    extension = Extension.objects.get()
    image = io.BytesIO()
    Image.new("RGB", (300, 200), (0, 90, 200)).save(image, format="PNG")
    image.seek(0)
    image.name = "preview.png"
    requests = [
        (
            f"{page(running)}download/",
            {
                "url": "https://huggingface.co/o/r/resolve/main/detail.safetensors",
                "kind": "lora",
                "directory": "styles",
            },
        ),
        (f"{page(running)}install/", {"url": "https://github.com/o/sd-ext", "ref": "v1"}),
        (f"{page(running)}refresh/", {}),
        (f"/instances/{running.public_id}/models/{model.public_id}/preview/", {"image": image}),
        (f"/instances/{running.public_id}/models/{model.public_id}/delete/", {}),
        (
            f"/instances/{running.public_id}/extensions/{extension.public_id}/update/",
            {"ref": "main", "restart_webui": "1"},
        ),
        (f"/instances/{running.public_id}/extensions/{extension.public_id}/remove/", {}),
    ]
    for path, data in requests:
        response = client.post(path, data)
        assert response.status_code == 302 and response["Location"] == page(running), path
        # Each finishes at once here, so the next one on the same file is not a conflict.
        Operation.objects.filter(status="pending").update(status="succeeded")
    operations = list(Operation.objects.order_by("created_at"))
    assert [o.kind for o in operations] == [
        Kind.DOWNLOAD_MODEL,
        Kind.INSTALL_EXTENSION,
        Kind.REFRESH_INVENTORY,
        Kind.SET_PREVIEW,
        Kind.DELETE_MODEL,
        Kind.UPDATE_EXTENSION,
        Kind.REMOVE_EXTENSION,
    ]
    assert {o.source for o in operations} == {Source.DASHBOARD}
    assert operations[0].params["path"] == "models/Lora/styles/detail.safetensors"
    assert operations[5].params["ref"] == "main" and operations[5].params["restart_webui"]
    assert operations[6].params["restart_webui"] is False
    followed = client.get(page(running)).content.decode()
    assert "Remove extension requested" in followed


def test_a_bad_form_shows_its_field_errors(running, alice) -> None:
    client = signed_in(alice)
    response = client.post(
        f"{page(running)}download/",
        {"url": "file:///etc/passwd", "kind": "other", "filename": "../x.safetensors"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Use an https:// URL" in html
    assert "Use a file name of at most 200 bytes" in html
    assert "Give the folder relative to the WebUI directory" in html
    assert not Operation.objects.exists()


def test_a_stopped_host_shows_why_nothing_can_be_changed(team, alice) -> None:
    stopped = make_instance(team, status=Status.STOPPED)
    client = signed_in(alice)
    html = client.get(page(stopped)).content.decode()
    assert "only while the host is running" in html
    assert "Download a model" not in html
    response = client.post(f"{page(stopped)}refresh/", follow=True)
    assert "it must be running" in response.content.decode()
    assert not Operation.objects.exists()


def test_the_tab_follows_file_operations_and_reloads_when_they_end(running, alice) -> None:
    client = signed_in(alice)
    client.post(f"{page(running)}refresh/")
    operation = Operation.objects.get()
    live = client.get(page(running), HTTP_HX_REQUEST="true")
    html = live.content.decode()
    assert 'hx-trigger="every 3s"' in html and operation.public_id in html
    assert "Refresh inventory" in html
    Operation.objects.update(status="succeeded")
    done = client.get(f"{page(running)}?was_live=1", HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"


def test_the_tab_speaks_chinese(running, alice) -> None:
    settings_of_alice = preference(alice)
    settings_of_alice.language = "zh-hans"
    settings_of_alice.save()
    html = signed_in(alice).get(page(running)).content.decode()
    assert "模型与扩展" in html and "下载模型" in html
    assert "Download a model" not in html


def test_the_overview_links_to_the_tab(running, bob) -> None:
    html = signed_in(bob).get(f"/instances/{running.public_id}/").content.decode()
    assert f'href="{page(running)}"' in html
