"""Host files as a live inventory: a download's progress read from the host while it runs,
failures kept with their reason until retried or dismissed, and the files read when a host
comes up running."""

from __future__ import annotations

import contextlib
import os
import time

import pytest
from django.test import Client

from hostfiles.models import HostDisk, ModelFile
from operations.models import Kind, Operation, OperationStatus
from tests.conftest import token_client
from tests.driving import deploy, drive
from tests.hostfiles.test_model_downloads import advance_until, download
from tests.hosts import instance_on

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_runner", "local_sources"),
]


def activity(user, instance) -> dict:
    response = token_client(user).get(f"/api/v1/instances/{instance.public_id}/files/activity/")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_slow_download_shows_bytes_percentage_speed_and_time_left(
    sim, team, alice, bob, shared_host, files
) -> None:
    url = files.add("slow-progress.safetensors", os.urandom(3_000_000))
    files.slow["slow-progress.safetensors"] = 200_000  # 15 s for the whole file
    instance = instance_on(team, shared_host)
    operation = download(instance, alice, url=url, kind="lora")
    queued = activity(bob, instance)["operations"]
    assert [(o["operation"], o["state"]) for o in queued] == [(operation.public_id, "queued")]

    def measured() -> bool:
        operation.refresh_from_db()
        sample = operation.state.get("progress") or {}
        return bool(sample.get("speed")) and sample.get("bytes", 0) > 400_000

    # The host's script runs in real time: advance (with a pause between rounds) until two
    # samples gave a speed.
    for _round in range(60):
        with contextlib.suppress(AssertionError):
            advance_until(operation, sim, measured, rounds=50)
        if measured():
            break
        time.sleep(0.25)
    assert measured(), operation.log
    (entry,) = activity(bob, instance)["operations"]
    assert entry["state"] == "downloading" and entry["total"] == 3_000_000
    assert 400_000 <= entry["bytes"] < 3_000_000
    assert entry["percent"] == entry["bytes"] * 100 // 3_000_000
    assert entry["bytes_per_second"] > 0 and entry["seconds_left"] > 0
    # Timed by the host, the speed is the server's pace, not an artefact of when it was read.
    assert entry["bytes_per_second"] < 2 * 200_000
    assert entry["failure"] is None
    disk = activity(bob, instance)["disk"]
    assert disk["free_bytes"] > 0

    page = Client()
    page.force_login(bob)
    html = page.get(f"/instances/{instance.public_id}/files/").content.decode()
    assert "Downloading" in html and "of 2.9\xa0MB" in html and "/s" in html and "left" in html

    finished = drive(operation, sim)
    assert finished.status == OperationStatus.SUCCEEDED, finished.log
    assert activity(bob, instance)["operations"] == []
    # The progress file went with the script.
    folder = shared_host.webui_dir / "models/Lora"
    assert not [p for p in folder.iterdir() if p.name.endswith(".progress")]


def test_a_failed_download_stays_with_its_reason_until_dismissed(
    sim, team, alice, bob, shared_host, files
) -> None:
    url = files.add("refused.safetensors", b"x" * 1000)
    files.tokens["refused.safetensors"] = "not-configured"
    instance = instance_on(team, shared_host)
    failed = drive(download(instance, alice, url=url, kind="vae"), sim)
    assert failed.status == OperationStatus.FAILED

    (entry,) = activity(bob, instance)["operations"]
    assert entry["state"] == "failed" and entry["target"] == "models/VAE/refused.safetensors"
    assert entry["failure"]["headline"] == "The site refused the download (HTTP 401)"
    assert (
        entry["failure"]["help"] == "tokens" and "model site tokens" in entry["failure"]["advice"]
    )
    assert entry["can_retry"] is True
    # Said once: the step names the code, the raw output appears once, folded.
    (step,) = [s for s in failed.steps if s["status"] == "failed"]
    assert step["note"] == "ScriptFailed"
    assert failed.error_message.count("401") == 1
    assert "kept to resume" not in failed.error_message
    discard = next(s for s in failed.steps if s["name"] == "discard_partial")
    assert discard["status"] == "skipped"

    page = Client()
    page.force_login(bob)
    html = page.get(f"/instances/{instance.public_id}/files/").content.decode()
    assert "The site refused the download (HTTP 401)" in html and "Dismiss" not in html

    page.force_login(alice)
    assert "Dismiss" in page.get(f"/instances/{instance.public_id}/files/").content.decode()
    page.post("/account/language/", {"language": "zh-hans", "next": "/"})
    zh = page.get(f"/instances/{instance.public_id}/files/").content.decode()
    assert "网站拒绝了下载" in zh and "忽略" in zh
    response = page.post(
        f"/instances/{instance.public_id}/files/operations/{failed.public_id}/dismiss/"
    )
    assert response.status_code == 302
    assert activity(bob, instance)["operations"] == []
    # The Operations page keeps it.
    assert Operation.objects.get(pk=failed.pk).status == OperationStatus.FAILED


def test_retry_asks_again_and_dismisses_the_failure(sim, team, alice, bob, shared_host, files):
    url = files.add("retry-me.safetensors", b"y" * 2000)
    files.tokens["retry-me.safetensors"] = "secret-1"
    instance = instance_on(team, shared_host)
    failed = drive(download(instance, alice, url=url, kind="embedding"), sim)
    assert failed.status == OperationStatus.FAILED
    files.tokens.pop("retry-me.safetensors")

    page = Client()
    page.force_login(bob)
    refused = page.post(
        f"/instances/{instance.public_id}/files/operations/{failed.public_id}/retry/"
    )
    assert refused.status_code == 403
    page.force_login(alice)
    page.post(f"/instances/{instance.public_id}/files/operations/{failed.public_id}/retry/")
    retried = Operation.objects.exclude(pk=failed.pk).get(
        kind=Kind.DOWNLOAD_MODEL, instance=instance
    )
    assert retried.params["path"] == failed.params["path"]
    assert [o["operation"] for o in activity(bob, instance)["operations"]] == [retried.public_id]
    assert drive(retried, sim).status == OperationStatus.SUCCEEDED
    assert ModelFile.objects.filter(instance=instance, path=failed.params["path"]).exists()


def test_a_host_that_comes_up_running_has_its_files_read(sim, team, alice, settings) -> None:
    settings.NESTOPS_READ_FILES_WHEN_RUNNING = True
    instance, deployed = deploy(team, alice, sim, name="reads-files")
    assert drive(deployed, sim).status == OperationStatus.SUCCEEDED, deployed.log
    (read,) = Operation.objects.filter(instance=instance, kind=Kind.REFRESH_INVENTORY)
    assert read.source == "system" and read.actor is None
    assert drive(read, sim).status == OperationStatus.SUCCEEDED, read.log
    kinds = set(ModelFile.objects.filter(instance=instance).values_list("kind", flat=True))
    assert "checkpoint" in kinds
    disk = HostDisk.objects.get(instance=instance)
    assert disk.free_bytes > 0 and disk.total_bytes and disk.total_bytes >= disk.free_bytes


def test_no_read_when_turned_off(sim, team, alice) -> None:
    instance, deployed = deploy(team, alice, sim, name="reads-nothing")
    assert drive(deployed, sim).status == OperationStatus.SUCCEEDED
    assert not Operation.objects.filter(instance=instance, kind=Kind.REFRESH_INVENTORY).exists()
