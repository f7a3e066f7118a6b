"""Model downloads, deletes and previews carried out on cloudsim hosts by the real scripts."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import time
from pathlib import Path

import pytest
from django.test import Client
from PIL import Image

from accounts.requester import Requester, Source
from cloud import oos
from hostfiles import services as host_files
from hostfiles.models import TOKEN_PROVIDER_DOMAINS, ModelFile, SourceToken, TokenProvider
from operations import runner
from operations.models import Kind, Operation, OperationStatus
from operations.services import (
    HostBusy,
    OperationConflict,
    OperationRefused,
    cancel_operation,
    request_operation,
)
from tests.cloudsim.helpers import basic_auth, http
from tests.conftest import token_client
from tests.driving import drive
from tests.hosts import REGION, WEBUI_PASSWORD, build_host, instance_on

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_runner", "local_sources"),
]


def webui(host, path: str):
    status, body, _headers = http(
        "GET", host.webui_url + path, headers={"Authorization": basic_auth("admin", WEBUI_PASSWORD)}
    )
    assert status == 200, body
    return body


def download(instance, alice, **fields) -> Operation:
    operation, _created = host_files.request_download(
        instance=instance, requester=Requester(source=Source.API, actor=alice), **fields
    )
    return operation


def processes_running(fragment: str) -> list[int]:
    """Live processes whose command line contains ``fragment``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "status").read_text()
        except OSError:
            continue
        if fragment in cmdline and "State:\tZ" not in state:
            found.append(int(entry.name))
    return found


def advance_until(operation: Operation, sim, ready, *, rounds: int = 400) -> None:
    """Runs the operation's steps until ``ready()`` holds (it has not finished yet)."""
    for _ in range(rounds):
        if ready():
            return
        Operation.objects.filter(pk=operation.pk).update(
            next_attempt_at="2000-01-01T00:00:00Z", lease_until=None
        )
        runner.advance(operation.pk)
        sim.advance(1)
        time.sleep(0.02)
    raise AssertionError("the condition never held")


def started_on_host(operation: Operation) -> bool:
    operation.refresh_from_db()
    return "execution:download" in operation.state


def test_a_checkpoint_lands_in_its_folder_and_the_webui_lists_it(
    sim, team, alice, shared_host, files
) -> None:
    instance = instance_on(team, shared_host)
    data = os.urandom(300_000)
    url = files.add("dl-first_v1.safetensors", data)
    operation = drive(download(instance, alice, url=url, kind="checkpoint"), sim)
    assert operation.status == OperationStatus.SUCCEEDED, operation.log
    target = shared_host.webui_dir / "models/Stable-diffusion/dl-first_v1.safetensors"
    assert target.read_bytes() == data
    filenames = [m["filename"] for m in webui(shared_host, "/sdapi/v1/sd-models")]
    assert "/root/stable-diffusion-webui/models/Stable-diffusion/dl-first_v1.safetensors" in (
        filenames
    )
    row = ModelFile.objects.get(instance=instance)
    assert row.path == "models/Stable-diffusion/dl-first_v1.safetensors"
    assert (row.size_bytes, row.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert row.public_id.startswith("mf-") and row.source_url == url
    assert "POST /sdapi/v1/refresh-checkpoints: HTTP 200" in operation.log
    # No partial file or its marker is left beside the model.
    assert sorted(p.name for p in target.parent.iterdir() if "dl-first" in p.name) == [
        "dl-first_v1.safetensors"
    ]


def test_a_downloaded_image_is_the_preview_of_its_model_not_a_model(
    sim, team, alice, shared_host, files
) -> None:
    instance = instance_on(team, shared_host)
    url = files.add("dl-card_v2.safetensors", os.urandom(50_000))
    drive(download(instance, alice, url=url, kind="lora"), sim)
    image_url = files.add("dl-card_v2.preview.png", b"\x89PNG\r\n\x1a\n" + os.urandom(2_000))
    operation = drive(download(instance, alice, url=image_url, kind="lora"), sim)
    assert operation.status == OperationStatus.SUCCEEDED, operation.log
    assert (shared_host.webui_dir / "models/Lora/dl-card_v2.preview.png").exists()
    (row,) = ModelFile.objects.filter(instance=instance)
    assert row.path == "models/Lora/dl-card_v2.safetensors" and row.has_preview


def test_a_lora_in_a_sub_folder_with_its_checksum_and_the_teams_token(
    sim, team, alice, shared_host, files, monkeypatch, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    # The local server stands for Hugging Face: its token goes to it and nowhere else.
    monkeypatch.setitem(TOKEN_PROVIDER_DOMAINS, TokenProvider.HUGGINGFACE, ("127.0.0.1",))
    secret = "hf_Secret-Token-123456789"
    SourceToken.objects.create(team=team, provider=TokenProvider.HUGGINGFACE, token=secret)
    data = os.urandom(50_000)
    url = files.add("gated-lora.safetensors", data)
    files.tokens["gated-lora.safetensors"] = secret
    instance = instance_on(team, shared_host)
    operation = drive(
        download(
            instance,
            alice,
            url=url,
            kind="lora",
            directory="styles/ink",
            filename="ink style [v2].safetensors",
            sha256=hashlib.sha256(data).hexdigest().upper(),
        ),
        sim,
    )
    assert operation.status == OperationStatus.SUCCEEDED, operation.log
    assert (shared_host.webui_dir / "models/Lora/styles/ink/ink style [v2].safetensors").exists()
    loras = {lora["path"] for lora in webui(shared_host, "/sdapi/v1/loras")}
    assert "/root/stable-diffusion-webui/models/Lora/styles/ink/ink style [v2].safetensors" in loras
    assert {r.headers.get("Authorization") for r in files.requests} == {f"Bearer {secret}"}
    assert "Hugging Face token goes with the download" in operation.log
    recorded = json.dumps(
        [operation.params, operation.state, operation.steps, operation.log, operation.error_message]
    )
    assert secret not in recorded and secret not in caplog.text
    assert WEBUI_PASSWORD not in recorded and WEBUI_PASSWORD not in caplog.text
    answer = token_client(alice).get(f"/api/v1/operations/{operation.public_id}/")
    assert answer.status_code == 200 and answer.json()["log"] == operation.log
    assert secret not in answer.content.decode()
    assert WEBUI_PASSWORD not in answer.content.decode()
    assert ModelFile.objects.get(instance=instance).kind == "lora"


def test_a_site_that_wants_a_token_fails_the_download_with_its_answer(
    sim, team, alice, shared_host, files
) -> None:
    url = files.add("needs-token.safetensors", b"x" * 1000)
    files.tokens["needs-token.safetensors"] = "not-configured"
    operation = drive(download(instance_on(team, shared_host), alice, url=url, kind="vae"), sim)
    assert operation.status == OperationStatus.FAILED
    assert operation.error_code == "ScriptFailed"
    assert "401" in operation.error_message
    assert not (shared_host.webui_dir / "models/VAE/needs-token.safetensors").exists()


def test_a_wrong_checksum_fails_and_keeps_nothing(sim, team, alice, shared_host, files) -> None:
    url = files.add("tampered.safetensors", b"y" * 2000)
    operation = drive(
        download(
            instance_on(team, shared_host), alice, url=url, kind="checkpoint", sha256="0" * 64
        ),
        sim,
    )
    assert operation.status == OperationStatus.FAILED
    assert "SHA-256 of the file is" in operation.error_message
    folder = shared_host.webui_dir / "models/Stable-diffusion"
    assert not [p for p in folder.iterdir() if "tampered" in p.name]


def test_the_size_limit_holds_with_or_without_a_declared_length(
    sim, team, alice, shared_host, files, settings
) -> None:
    settings.NESTOPS_DOWNLOAD_MAX_BYTES = 10_000
    instance = instance_on(team, shared_host)
    declared = files.add("declared-huge.safetensors", b"z" * 20_000)
    refused = drive(download(instance, alice, url=declared, kind="checkpoint"), sim)
    assert refused.status == OperationStatus.FAILED
    assert "the limit is 10000" in refused.error_message
    assert not [r for r in files.requests if r.method == "GET"]  # refused after HEAD
    # A server that announces nothing: the host stops the transfer once it passes the limit.
    streamed = files.add("streamed-huge.safetensors", b"z" * 100_000)
    files.unannounced.add("streamed-huge.safetensors")
    files.slow["streamed-huge.safetensors"] = 25_000
    started = time.monotonic()
    stopped = drive(download(instance, alice, url=streamed, kind="checkpoint"), sim)
    assert stopped.status == OperationStatus.FAILED
    assert "larger than the limit of 10000 bytes" in stopped.error_message
    assert time.monotonic() - started < 3.5  # stopped midway, not after the 4 s transfer
    assert not list((shared_host.webui_dir / "models").rglob("*-huge*"))


def test_a_download_needs_the_free_space_the_server_announces(
    sim, team, alice, shared_host, files, settings
) -> None:
    settings.NESTOPS_DOWNLOAD_MAX_BYTES = 2**60
    url = files.add("announced.safetensors", b"a" * 100)
    files.claimed_sizes["announced.safetensors"] = 2**50
    operation = drive(download(instance_on(team, shared_host), alice, url=url, kind="lora"), sim)
    assert operation.status == OperationStatus.FAILED
    assert "not enough free space in models/Lora" in operation.error_message
    assert not [r for r in files.requests if r.method == "GET"]


def test_a_download_resumes_a_partial_file_of_the_same_url(
    sim, team, alice, shared_host, files
) -> None:
    data = os.urandom(400_000)
    url = files.add("resumed.safetensors", data)
    folder = shared_host.webui_dir / "models/Lora"
    (folder / ".resumed.safetensors.nestops-part").write_bytes(data[:150_000])
    (folder / ".resumed.safetensors.nestops-part.source").write_text(
        hashlib.sha256(url.encode()).hexdigest() + "\n"
    )
    operation = drive(download(instance_on(team, shared_host), alice, url=url, kind="lora"), sim)
    assert operation.status == OperationStatus.SUCCEEDED, operation.log
    assert (folder / "resumed.safetensors").read_bytes() == data
    assert [r.headers.get("Range") for r in files.requests if r.method == "GET"] == [
        "bytes=150000-"
    ]
    assert "resuming after 150000 bytes" in operation.log


def test_a_partial_file_of_another_url_is_not_resumed(sim, team, alice, shared_host, files) -> None:
    data = os.urandom(100_000)
    url = files.add("other-source.safetensors", data)
    folder = shared_host.webui_dir / "models/VAE"
    (folder / ".other-source.safetensors.nestops-part").write_bytes(b"\0" * 50_000)
    (folder / ".other-source.safetensors.nestops-part.source").write_text("0" * 64)
    operation = drive(download(instance_on(team, shared_host), alice, url=url, kind="vae"), sim)
    assert operation.status == OperationStatus.SUCCEEDED, operation.log
    assert (folder / "other-source.safetensors").read_bytes() == data


def test_an_existing_model_is_replaced_only_when_asked(
    sim, team, alice, shared_host, files
) -> None:
    instance = instance_on(team, shared_host)
    url = files.add("twice.safetensors", b"first" * 100)
    assert drive(download(instance, alice, url=url, kind="embedding"), sim).status == "succeeded"
    with pytest.raises(OperationRefused) as caught:
        download(instance, alice, url=url, kind="embedding")
    assert caught.value.code == "model_exists"
    files.add("twice.safetensors", b"second" * 100)
    again = drive(download(instance, alice, url=url, kind="embedding", overwrite=True), sim)
    assert again.status == OperationStatus.SUCCEEDED, again.log
    assert (shared_host.webui_dir / "embeddings/twice.safetensors").read_bytes() == b"second" * 100
    assert ModelFile.objects.get(instance=instance).size_bytes == 600


def test_no_download_on_a_stopped_host(team, alice, shared_host) -> None:
    instance = instance_on(team, shared_host, status="stopped")
    with pytest.raises(OperationRefused) as caught:
        download(instance, alice, url="http://127.0.0.1:1/x.safetensors", kind="lora")
    assert caught.value.code == "invalid_state"
    assert "must be running" in caught.value.message
    assert not Operation.objects.exists()


def test_file_operations_run_side_by_side_up_to_the_limit(
    sim, team, alice, shared_host, files, settings
) -> None:
    settings.NESTOPS_HOST_FILE_OPERATIONS_PER_HOST = 3
    instance = instance_on(team, shared_host)
    urls = []
    for n in range(4):
        urls.append(files.add(f"limit-{n}.safetensors", os.urandom(60_000)))
        files.slow[f"limit-{n}.safetensors"] = 60_000  # a second each
    accepted = [download(instance, alice, url=u, kind="lora") for u in urls[:3]]
    with pytest.raises(OperationConflict) as same_file:
        download(instance, alice, url=urls[0], kind="lora")
    assert same_file.value.details["active_operation"] == accepted[0].public_id
    with pytest.raises(HostBusy) as busy:
        download(instance, alice, url=urls[3], kind="lora")
    assert busy.value.http_status == 409
    assert busy.value.details == {
        "active_operations": [o.public_id for o in accepted],
        "limit": 3,
    }
    assert "at most 3 may run at once" in busy.value.message

    # The three scripts run on the host at the same time.
    for operation in accepted:
        advance_until(operation, sim, lambda o=operation: started_on_host(o))
    executions = [Operation.objects.get(pk=o.pk).state["execution:download"] for o in accepted]
    statuses = [oos.get_execution(REGION, e).status for e in executions]
    assert statuses == ["Running"] * 3
    for operation in accepted:
        assert drive(operation, sim).status == OperationStatus.SUCCEEDED
    assert download(instance, alice, url=urls[3], kind="lora").status == "pending"


def test_cancelling_a_download_kills_it_on_the_host_and_removes_the_partial_file(
    sim, team, alice, shared_host, files
) -> None:
    url = files.add("slow-cancel.safetensors", os.urandom(4_000_000))
    files.slow["slow-cancel.safetensors"] = 200_000  # 20 s for the whole file
    part = shared_host.webui_dir / "models/Lora/.slow-cancel.safetensors.nestops-part"
    operation = download(instance_on(team, shared_host), alice, url=url, kind="lora")
    advance_until(operation, sim, lambda: part.exists() and part.stat().st_size > 100_000)
    operation.refresh_from_db()
    execution_id = operation.state["execution:download"]
    script = f".sim/scripts/{execution_id}.sh"
    assert processes_running(script) and processes_running(str(part))

    cancel_operation(operation=operation, actor=alice)
    cancelled = drive(operation, sim)
    assert cancelled.status == OperationStatus.CANCELLED
    assert oos.get_execution(REGION, execution_id).status == "Cancelled"
    assert not processes_running(script) and not processes_running(str(part))
    assert not part.exists() and not part.with_name(part.name + ".source").exists()
    assert [s["name"] for s in cancelled.steps if s["phase"] == "rollback"] == [
        "cancel_scripts",
        "discard_partial",
    ]
    assert f"cancelled OOS execution {execution_id}" in cancelled.log


def test_a_stop_cancels_the_downloads_and_waits_for_them(sim, team, alice, files) -> None:
    host = build_host(sim, "files-stop")
    instance = instance_on(team, host)
    url = files.add("slow-stop.safetensors", os.urandom(4_000_000))
    files.slow["slow-stop.safetensors"] = 200_000
    part = host.webui_dir / "models/Lora/.slow-stop.safetensors.nestops-part"
    downloading = download(instance, alice, url=url, kind="lora")
    advance_until(downloading, sim, lambda: part.exists())

    stop, _ = request_operation(
        instance=instance, kind=Kind.STOP, requester=Requester(source="api", actor=alice)
    )
    downloading.refresh_from_db()
    assert downloading.cancel_requested
    # The stop's first step waits while the download still runs.
    Operation.objects.filter(pk=stop.pk).update(next_attempt_at="2000-01-01T00:00:00Z")
    runner.advance(stop.pk)
    stop.refresh_from_db()
    assert stop.steps[0]["name"] == "wait_for_other_operations"
    assert stop.steps[0]["status"] == "waiting"
    assert stop.state["waiting_for"] == [downloading.public_id]

    with pytest.raises(OperationConflict):
        download(instance, alice, url=files.add("late.safetensors", b"l" * 10), kind="lora")
    assert drive(downloading, sim).status == OperationStatus.CANCELLED
    assert drive(stop, sim).status == OperationStatus.SUCCEEDED, stop.log
    assert sim.instance(host.cloud_id)["status"] == "Stopped"
    assert not processes_running(str(part))


def test_deleting_a_model_removes_it_and_its_preview_from_the_host(
    sim, team, alice, shared_host, files
) -> None:
    instance = instance_on(team, shared_host)
    url = files.add("short-lived.safetensors", b"s" * 5000)
    drive(download(instance, alice, url=url, kind="lora"), sim)
    model_file = ModelFile.objects.get(instance=instance)
    folder = shared_host.webui_dir / "models/Lora"
    (folder / "short-lived.preview.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    operation, _ = host_files.request_model_delete(
        model_file=model_file, requester=Requester(source=Source.API, actor=alice)
    )
    assert drive(operation, sim).status == OperationStatus.SUCCEEDED
    assert not (folder / "short-lived.safetensors").exists()
    assert not (folder / "short-lived.preview.png").exists()
    assert "short-lived" not in json.dumps(webui(shared_host, "/sdapi/v1/loras"))
    assert not ModelFile.objects.filter(instance=instance).exists()


def _photo(size: tuple[int, int]) -> bytes:
    image = Image.effect_mandelbrot(size, (-2.0, -1.5, 1.0, 1.5), 100).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def test_a_preview_is_shrunk_to_a_png_and_placed_next_to_its_model(
    sim, team, alice, shared_host, files
) -> None:
    from hostfiles.previews import MAX_PNG_BYTES, make_preview

    instance = instance_on(team, shared_host)
    drive(
        download(instance, alice, url=files.add("pictured.safetensors", b"p" * 100), kind="lora"),
        sim,
    )
    model_file = ModelFile.objects.get(instance=instance)
    png = make_preview(_photo((1600, 1200)))
    operation, _ = host_files.request_preview(
        model_file=model_file, png=png, requester=Requester(source=Source.API, actor=alice)
    )
    assert "preview_png" not in operation.params
    done = drive(operation, sim)
    assert done.status == OperationStatus.SUCCEEDED, done.log
    placed = shared_host.webui_dir / "models/Lora/pictured.preview.png"
    assert placed.read_bytes() == png and len(png) <= MAX_PNG_BYTES
    with Image.open(placed) as image:
        assert image.format == "PNG" and max(image.size) <= 512
    # The image does not stay in the operation; a 96-pixel thumbnail stays with the model.
    assert "preview_png" not in done.state and "thumbnail_png" not in done.state
    assert not list((shared_host.sandbox / "root/.nestops/incoming").iterdir())
    model_file.refresh_from_db()
    assert model_file.has_preview
    with Image.open(io.BytesIO(bytes(model_file.preview_thumbnail))) as thumbnail:
        assert thumbnail.format == "PNG" and max(thumbnail.size) == 96
    page = Client()
    page.force_login(alice)
    html = page.get(f"/instances/{instance.public_id}/files/").content.decode()
    assert f'src="{model_file.thumbnail_path}"' in html


def test_a_presigned_url_reaches_the_host_whole_and_everyone_else_redacted(
    sim, team, alice, bob, shared_host, files, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    data = os.urandom(20_000)
    files.add("presigned_v1.safetensors", data)
    query = (
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20260101"
        "&X-Amz-Security-Token=Sess10nT0ken&X-Amz-Signature=5ecret5ignature&response=1"
    )
    url = f"{files.url('presigned_v1.safetensors')}?{query}"
    instance = instance_on(team, shared_host)
    answer = token_client(alice).post(
        f"/api/v1/instances/{instance.public_id}/models/",
        {"url": url, "kind": "lora"},
        format="json",
    )
    assert answer.status_code == 202, answer.json()
    operation = drive(Operation.objects.get(public_id=answer.json()["id"]), sim)
    assert operation.status == OperationStatus.SUCCEEDED, operation.log
    assert (shared_host.webui_dir / "models/Lora/presigned_v1.safetensors").read_bytes() == data
    # The host fetched the real URL.
    assert {r.path for r in files.requests} == {f"/presigned_v1.safetensors?{query}"}
    redacted = (
        f"{files.url('presigned_v1.safetensors')}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=REDACTED&X-Amz-Security-Token=REDACTED"
        "&X-Amz-Signature=REDACTED&response=1"
    )
    assert operation.params["url"] == redacted
    assert ModelFile.objects.get(instance=instance).source_url == redacted
    secrets = ("AKIDEXAMPLE", "Sess10nT0ken", "5ecret5ignature")
    as_bob = token_client(bob)
    seen = [
        as_bob.get(f"/api/v1/operations/{operation.public_id}/"),
        as_bob.get(f"/api/v1/instances/{instance.public_id}/models/"),
        token_client(alice).get(f"/api/v1/operations/{operation.public_id}/"),
    ]
    for response in seen:
        assert response.status_code == 200
        assert not any(s in response.content.decode() for s in secrets)
    assert redacted in seen[0].content.decode() and redacted in seen[1].content.decode()
    pages = Client()
    pages.force_login(bob)
    for page in (f"/operations/{operation.public_id}/", f"/instances/{instance.public_id}/files/"):
        response = pages.get(page)
        assert response.status_code == 200
        assert not any(s in response.content.decode() for s in secrets)
    recorded = json.dumps([operation.params, operation.state, operation.steps, operation.log])
    assert not any(s in recorded or s in caplog.text for s in secrets)
