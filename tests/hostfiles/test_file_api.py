"""The models, extensions, inventory and model site token endpoints: who may do what, and the
shapes they answer with. Operations are only recorded here; test_model_downloads and friends
run them against cloudsim."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from accounts.models import AuditAction, AuditEvent
from hostfiles.models import Extension, ModelFile, SourceToken
from instances.models import Status
from operations.models import Kind, Operation
from tests.factories import make_instance

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_sources(settings) -> None:
    settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS = False
    settings.NESTOPS_EXTENSION_HOSTS = ["github.com"]


@pytest.fixture
def running(team):
    return make_instance(team, status=Status.RUNNING)


@pytest.fixture
def model_file(running):
    return ModelFile.objects.create(
        instance=running,
        kind="lora",
        path="models/Lora/detail.safetensors",
        name="detail.safetensors",
        size_bytes=1234,
    )


@pytest.fixture
def extension(running):
    return Extension.objects.create(
        instance=running,
        name="sd-webui-controlnet",
        remote_url="https://github.com/Mikubill/sd-webui-controlnet",
        commit="a" * 40,
    )


def png_upload(size=(64, 48)) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "preview.png"
    return buffer


DOWNLOAD = {
    "url": "https://huggingface.co/org/repo/resolve/main/detail_v2.safetensors",
    "kind": "lora",
}
INSTALL = {"url": "https://github.com/owner/sd-webui-thing"}


def endpoints(instance, model_file, extension) -> list[tuple[str, str, dict | None, bool]]:
    """(method, path, body, is a write) for every endpoint on an instance."""
    base = f"/api/v1/instances/{instance.public_id}"
    model = f"{base}/models/{model_file.public_id}/"
    ext = f"{base}/extensions/{extension.public_id}/"
    return [
        ("get", f"{base}/models/", None, False),
        ("post", f"{base}/models/", DOWNLOAD, True),
        ("get", model, None, False),
        ("delete", model, None, True),
        ("post", f"{model}preview/", None, True),
        ("get", f"{base}/extensions/", None, False),
        ("post", f"{base}/extensions/", INSTALL, True),
        ("get", ext, None, False),
        ("patch", ext, {"ref": "main"}, True),
        ("post", f"{ext}update/", {}, True),
        ("delete", ext, None, True),
        ("post", f"{base}/inventory/refresh/", None, True),
    ]


def call(client, method, path, body):
    return getattr(client, method)(path, body, format="json")


def test_anonymous_gets_401_everywhere(anonymous, running, model_file, extension) -> None:
    for method, path, body, _write in endpoints(running, model_file, extension):
        response = call(anonymous, method, path, body)
        assert response.status_code == 401, (method, path)
        assert set(response.json()) == {"code", "message", "details"}
    for method in ("get", "put", "delete"):
        response = getattr(anonymous, method)("/api/v1/teams/alpha/model-site-tokens/civitai/")
        assert response.status_code == 401


def test_an_outsider_gets_404_everywhere(as_mallory, running, model_file, extension) -> None:
    for method, path, body, _write in endpoints(running, model_file, extension):
        response = call(as_mallory, method, path, body)
        assert response.status_code == 404, (method, path)
        assert response.json()["code"] == "not_found"
    assert not Operation.objects.exists()


def test_a_viewer_reads_and_may_not_act(as_bob, running, model_file, extension) -> None:
    for method, path, body, write in endpoints(running, model_file, extension):
        response = call(as_bob, method, path, body)
        if write:
            assert response.status_code == 403, (method, path)
            assert response.json()["code"] == "permission_denied"
        else:
            assert response.status_code == 200, (method, path)
    assert not Operation.objects.exists()


def test_an_operator_starts_each_operation(as_alice, running, model_file, extension) -> None:
    kinds = []
    for method, path, body, write in endpoints(running, model_file, extension):
        if path.endswith("preview/"):
            response = as_alice.post(path, {"image": png_upload()}, format="multipart")
        else:
            response = call(as_alice, method, path, body)
        if not write:
            assert response.status_code == 200, (method, path, response.content)
            continue
        assert response.status_code == 202, (method, path, response.content)
        answer = response.json()
        assert response["Location"] == f"/api/v1/operations/{answer['id']}/"
        kinds.append(answer["kind"])
        # Finish it at once so the next request on the same file is not a conflict.
        Operation.objects.filter(public_id=answer["id"]).update(status="succeeded")
    assert kinds == [
        Kind.DOWNLOAD_MODEL,
        Kind.DELETE_MODEL,
        Kind.SET_PREVIEW,
        Kind.INSTALL_EXTENSION,
        Kind.UPDATE_EXTENSION,
        Kind.UPDATE_EXTENSION,
        Kind.REMOVE_EXTENSION,
        Kind.REFRESH_INVENTORY,
    ]


def test_a_download_answers_with_its_operation_and_honours_the_idempotency_key(
    as_alice, running
) -> None:
    url = f"/api/v1/instances/{running.public_id}/models/"
    first = as_alice.post(url, DOWNLOAD, format="json", HTTP_IDEMPOTENCY_KEY="dl-1")
    again = as_alice.post(url, DOWNLOAD, format="json", HTTP_IDEMPOTENCY_KEY="dl-1")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    params = first.json()["params"]
    assert params["path"] == "models/Lora/detail_v2.safetensors"
    assert params["filename"] == "detail_v2.safetensors" and params["overwrite"] is False
    other = as_alice.post(
        url, {**DOWNLOAD, "kind": "checkpoint"}, format="json", HTTP_IDEMPOTENCY_KEY="dl-1"
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert Operation.objects.count() == 1


def test_field_errors_come_in_the_shared_shape(as_alice, running) -> None:
    response = as_alice.post(
        f"/api/v1/instances/{running.public_id}/models/",
        {"url": "https://civitai.com/api/download/models/12345", "kind": "other"},
        format="json",
    )
    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == "invalid"
    assert set(answer["details"]) == {"directory"}
    assert answer["message"].startswith("directory: Give the folder relative to the WebUI")
    response = as_alice.post(
        f"/api/v1/instances/{running.public_id}/models/",
        {"url": "https://civitai.com/api/download/models/12345", "kind": "lora"},
        format="json",
    )
    assert "give the file name" in response.json()["details"]["filename"][0]


def test_a_download_on_a_stopped_host_is_a_conflict(as_alice, team) -> None:
    stopped = make_instance(team, status=Status.STOPPED)
    response = as_alice.post(
        f"/api/v1/instances/{stopped.public_id}/models/", DOWNLOAD, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"


def test_a_busy_host_answers_409_naming_the_operations(as_alice, running, settings) -> None:
    settings.NESTOPS_HOST_FILE_OPERATIONS_PER_HOST = 1
    url = f"/api/v1/instances/{running.public_id}/models/"
    first = as_alice.post(url, DOWNLOAD, format="json").json()
    second = as_alice.post(
        url, {**DOWNLOAD, "url": DOWNLOAD["url"].replace("v2", "v3")}, format="json"
    )
    assert second.status_code == 409
    assert second.json()["code"] == "host_busy"
    assert second.json()["details"]["active_operations"] == [first["id"]]


def test_lists_filter_and_never_show_database_ids(as_bob, running, model_file) -> None:
    ModelFile.objects.create(
        instance=running, kind="checkpoint", path="models/Stable-diffusion/base.ckpt", name="base"
    )
    base = f"/api/v1/instances/{running.public_id}/models/"
    everything = as_bob.get(base).json()
    assert everything["count"] == 2
    row = next(r for r in everything["results"] if r["kind"] == "lora")
    assert row["id"] == model_file.public_id and row["url"].endswith(f"/{model_file.public_id}/")
    assert "pk" not in row and f"/{model_file.pk}/" not in json.dumps(row)
    assert not [v for v in row.values() if type(v) is int and v == model_file.pk]
    assert [r["kind"] for r in as_bob.get(base, {"kind": "checkpoint"}).json()["results"]] == [
        "checkpoint"
    ]
    assert as_bob.get(base, {"search": "detail"}).json()["count"] == 1
    assert as_bob.get(base, {"has_preview": "true"}).json()["count"] == 0


def test_a_model_of_another_instance_is_not_found_under_this_one(as_alice, team, model_file):
    other = make_instance(team, status=Status.RUNNING)
    response = as_alice.delete(
        f"/api/v1/instances/{other.public_id}/models/{model_file.public_id}/"
    )
    assert response.status_code == 404


def test_a_preview_must_be_a_real_image(as_alice, running, model_file) -> None:
    url = f"/api/v1/instances/{running.public_id}/models/{model_file.public_id}/preview/"
    fake = io.BytesIO(b"<?php system($_GET['c']); ?>")
    fake.name = "preview.png"
    response = as_alice.post(url, {"image": fake}, format="multipart")
    assert response.status_code == 400
    assert response.json()["details"]["image"] == ["This file is not an image that can be read."]
    assert not Operation.objects.exists()
    accepted = as_alice.post(url, {"image": png_upload((2000, 1000))}, format="multipart")
    assert accepted.status_code == 202
    operation = Operation.objects.get(public_id=accepted.json()["id"])
    assert operation.params["preview_bytes"] <= 24 * 1024
    assert "preview_png" not in accepted.json()["params"]


def test_model_site_tokens_are_write_only_and_admin_only(
    as_alice, as_bob, as_mallory, carol, team
) -> None:
    from tests.conftest import token_client

    as_carol = token_client(carol)
    url = "/api/v1/teams/alpha/model-site-tokens/"
    secret = "civitai-secret-0123456789"
    listing = as_bob.get(url).json()
    assert [(t["provider"], t["configured"]) for t in listing] == [
        ("civitai", False),
        ("huggingface", False),
        ("modelscope", False),
    ]
    assert as_mallory.get(url).status_code == 404
    assert as_mallory.put(f"{url}civitai/", {"token": secret}, format="json").status_code == 404
    assert as_alice.put(f"{url}civitai/", {"token": secret}, format="json").status_code == 403
    assert as_bob.delete(f"{url}civitai/").status_code == 403
    assert as_carol.put(f"{url}github/", {"token": secret}, format="json").status_code == 404
    bad = as_carol.put(f"{url}civitai/", {"token": "has spaces in it"}, format="json")
    assert bad.status_code == 400 and "token" in bad.json()["details"]

    saved = as_carol.put(f"{url}civitai/", {"token": secret}, format="json")
    assert saved.status_code == 200
    assert saved.json() == {
        "provider": "civitai",
        "configured": True,
        "updated_by": "carol",
        "updated_at": saved.json()["updated_at"],
    }
    answers = [saved, as_bob.get(url), as_bob.get(f"{url}civitai/"), as_carol.get(url)]
    assert all(secret not in a.content.decode() for a in answers)
    assert as_bob.get(f"{url}civitai/").json()["configured"] is True
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM instances_sourcetoken")
        [(stored,)] = cursor.fetchall()
    assert secret not in stored and SourceToken.objects.get().token == secret

    assert as_carol.delete(f"{url}civitai/").status_code == 204
    assert not SourceToken.objects.exists()
    events = list(AuditEvent.objects.filter(team=team).order_by("created_at"))
    assert [(e.action, e.target) for e in events] == [
        (AuditAction.SOURCE_TOKEN_SET, "civitai"),
        (AuditAction.SOURCE_TOKEN_DELETED, "civitai"),
    ]
    assert secret not in json.dumps([e.details for e in events])
