"""Hugging Face files downloaded on cloudsim hosts by the real script from the endpoint that
applies (the team's, else the server's), over the connections that apply, with the team's
token only where it belongs. The local file server stands for the mirror."""

from __future__ import annotations

import hashlib
import os

import pytest

from accounts.requester import Requester, Source
from hostfiles import services as host_files
from hostfiles.models import SourceToken, TokenProvider
from operations.models import OperationStatus
from tests.driving import drive
from tests.hosts import instance_on

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_runner", "local_sources"),
]

MIB = 1024 * 1024
SECRET = "hf_Mirror-Secret-123456789"


def on_mirror(files, path: str, data: bytes) -> None:
    """Serves ``data`` at ``/{path}`` as a Hugging Face endpoint does."""
    target = files.folder / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def gets(files) -> list[str]:
    return sorted(r.headers.get("Range", "") for r in files.requests if r.method == "GET")


def test_the_teams_endpoint_and_connections_reach_the_script_and_its_token_does_not(
    sim, team, alice, carol, shared_host, files, settings
) -> None:
    settings.NESTOPS_HUGGINGFACE_ENDPOINT = ""
    settings.NESTOPS_DOWNLOAD_CONNECTIONS = 16
    SourceToken.objects.create(team=team, provider=TokenProvider.HUGGINGFACE, token=SECRET)
    host_files.set_download_settings(
        team=team,
        huggingface_endpoint=files.base_url,
        download_connections=2,
        requester=Requester(source=Source.DASHBOARD, actor=carol),
    )
    data = os.urandom(24 * MIB)
    on_mirror(files, "org/repo/resolve/main/unet/mirrored.safetensors", data)
    operation, _created = host_files.request_download(
        instance=instance_on(team, shared_host),
        source="huggingface",
        repo="org/repo",
        file="unet/mirrored.safetensors",
        kind="checkpoint",
        requester=Requester(source=Source.API, actor=alice),
    )
    assert operation.params["url"] == (
        f"{files.base_url}/org/repo/resolve/main/unet/mirrored.safetensors"
    )
    done = drive(operation, sim)
    assert done.status == OperationStatus.SUCCEEDED, done.log
    saved = shared_host.webui_dir / "models/Stable-diffusion/mirrored.safetensors"
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    # Two connections, the team's number (the server's 16 would have made three ranges).
    assert "in 2 byte ranges at once" in done.log
    assert gets(files) == [f"bytes=0-{12 * MIB - 1}", f"bytes={12 * MIB}-{24 * MIB - 1}"]
    # A mirror a team set never receives the team's token.
    assert not [r for r in files.requests if "Authorization" in r.headers]
    assert "token goes with the download" not in done.log


def test_the_servers_endpoint_gets_a_pasted_link_and_the_token_over_its_connections(
    sim, team, alice, shared_host, files, settings
) -> None:
    settings.NESTOPS_HUGGINGFACE_ENDPOINT = files.base_url
    settings.NESTOPS_DOWNLOAD_CONNECTIONS = 1
    SourceToken.objects.create(team=team, provider=TokenProvider.HUGGINGFACE, token=SECRET)
    data = os.urandom(20 * MIB)
    on_mirror(files, "org/gated/resolve/v1.0/gated.safetensors", data)
    files.tokens["org/gated/resolve/v1.0/gated.safetensors"] = SECRET
    operation, _created = host_files.request_download(
        instance=instance_on(team, shared_host),
        url="https://huggingface.co/org/gated/blob/v1.0/gated.safetensors",
        kind="lora",
        requester=Requester(source=Source.API, actor=alice),
    )
    assert operation.params["url"] == f"{files.base_url}/org/gated/resolve/v1.0/gated.safetensors"
    assert operation.params["connections"] == 1
    done = drive(operation, sim)
    assert done.status == OperationStatus.SUCCEEDED, done.log
    assert (shared_host.webui_dir / "models/Lora/gated.safetensors").read_bytes() == data
    # One connection (the server's setting), and the operator's endpoint has the token.
    assert gets(files) == [""]
    assert {r.headers.get("Authorization") for r in files.requests} == {f"Bearer {SECRET}"}
    assert "Hugging Face token goes with the download" in done.log
    assert SECRET not in str([done.params, done.state, done.log])
