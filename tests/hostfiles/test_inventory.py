"""Inventory refreshes: what inventory.sh finds on a cloudsim host replaces the rows."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from accounts.requester import Requester, Source
from hostfiles import services as host_files
from hostfiles.handlers import model_files
from hostfiles.models import Extension, ModelFile
from operations.models import OperationStatus
from tests.driving import drive
from tests.gitserver import git
from tests.hosts import build_host, instance_on

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_runner")]


@pytest.fixture(scope="module")
def stocked_host(cloudsim, tmp_path_factory):
    """A host holding models, odd files and extensions put there by other means."""
    host = build_host(cloudsim, "files-inventory")
    webui = host.webui_dir
    git("init", "-q", str(webui))  # the WebUI directory itself is a git checkout
    files = {
        "models/Lora/chars/alice.safetensors": 1000,
        'models/Lora/we"ird\\name.safetensors': 10,
        "models/LyCORIS/thing.safetensors": 20,
        "embeddings/negative.pt": 30,
        "models/Lora/readme.txt": 5,
        "models/Lora/.half.safetensors.nestops-part": 50,
    }
    for relative, size in files.items():
        (webui / relative).parent.mkdir(parents=True, exist_ok=True)
        (webui / relative).write_bytes(os.urandom(size))
    (webui / "models/Lora/chars/alice.preview.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (webui / "models/Lora/line\nbreak.safetensors").write_bytes(b"n")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.safetensors").write_bytes(b"not to be listed")
    (webui / "models/Lora/escape").symlink_to(outside)
    checkout = webui / "extensions/sd-webui-ext"
    _work = git("init", "-q", str(checkout))
    (checkout / "install.py").write_text("print()\n")
    git("add", "-A", cwd=checkout)
    git("commit", "-q", "-m", "one", cwd=checkout)
    git("remote", "add", "origin", "https://user:s3cret@example.com/o/sd-webui-ext", cwd=checkout)
    (webui / "extensions/plain-ext").mkdir()
    return host, git("rev-parse", "HEAD", cwd=checkout)


def refresh(instance, alice, sim):
    operation, _ = host_files.request_inventory_refresh(
        instance=instance, requester=Requester(source=Source.API, actor=alice)
    )
    done = drive(operation, sim)
    assert done.status == OperationStatus.SUCCEEDED, done.log
    return done


def test_a_refresh_lists_what_the_host_really_holds(sim, team, alice, stocked_host) -> None:
    host, commit = stocked_host
    instance = instance_on(team, host)
    gone = ModelFile.objects.create(
        instance=instance, kind="lora", path="models/Lora/deleted.safetensors", name="deleted"
    )
    known = ModelFile.objects.create(
        instance=instance,
        kind="lora",
        path="models/Lora/chars/alice.safetensors",
        name="alice.safetensors",
        size_bytes=1000,
        sha256="a" * 64,
        source_url="https://example.com/alice.safetensors",
    )
    done = refresh(instance, alice, sim)
    rows = {m.path: m for m in ModelFile.objects.filter(instance=instance)}
    assert set(rows) == {
        "models/Stable-diffusion/v1-5-pruned-emaonly.safetensors",
        "models/Lora/chars/alice.safetensors",
        'models/Lora/we"ird\\name.safetensors',
        "models/LyCORIS/thing.safetensors",
        "embeddings/negative.pt",
    }
    assert not ModelFile.objects.filter(pk=gone.pk).exists()
    alice_row = rows["models/Lora/chars/alice.safetensors"]
    assert alice_row.pk == known.pk and alice_row.has_preview
    assert (alice_row.sha256, alice_row.source_url) == (known.sha256, known.source_url)
    assert rows["models/LyCORIS/thing.safetensors"].kind == "other"
    assert rows["embeddings/negative.pt"].kind == "embedding"
    assert rows["models/Stable-diffusion/v1-5-pruned-emaonly.safetensors"].kind == "checkpoint"
    assert rows['models/Lora/we"ird\\name.safetensors'].size_bytes == 10
    assert "skipped 1 files with control characters" in done.log

    extensions = {e.name: e for e in Extension.objects.filter(instance=instance)}
    assert set(extensions) == {"sd-webui-ext", "plain-ext"}
    assert extensions["sd-webui-ext"].remote_url == "https://example.com/o/sd-webui-ext"
    assert extensions["sd-webui-ext"].commit == commit
    # Not the WebUI's own repository, which the plain folder sits in.
    assert (extensions["plain-ext"].remote_url, extensions["plain-ext"].commit) == ("", "")
    assert "s3cret" not in done.log and "s3cret" not in str(done.state)


def test_a_large_inventory_comes_in_pages(sim, team, alice, stocked_host, monkeypatch) -> None:
    host, _commit = stocked_host
    whole = instance_on(team, host)
    refresh(whole, alice, sim)
    expected = sorted(ModelFile.objects.filter(instance=whole).values_list("path", "size_bytes"))

    monkeypatch.setattr(model_files, "INVENTORY_BUDGET", 120)
    paged = instance_on(team, host, name="paged")
    done = refresh(paged, alice, sim)
    pages = [key for key in done.state if key.startswith("execution:inventory-")]
    assert len(pages) >= 3
    assert sorted(ModelFile.objects.filter(instance=paged).values_list("path", "size_bytes")) == (
        expected
    )
    assert Extension.objects.filter(instance=paged).count() == 2
    assert "found" not in done.state  # the listing does not stay in the operation's row


def test_inventory_output_fits_what_oos_keeps(stocked_host) -> None:
    """One page of a host with many long names stays well under OOS's 24 KB output tail."""
    host, _commit = stocked_host
    crowded = host.webui_dir / "models/Lora/crowd"
    crowded.mkdir(exist_ok=True)
    for n in range(400):
        (crowded / (f"{n:03d}-" + "x" * 150 + ".safetensors")).write_bytes(b"")
    try:
        import subprocess

        from operations import scripts

        script = scripts.render(
            "inventory",
            {"OFFSET": 0, "BUDGET": model_files.INVENTORY_BUDGET, "EXTENSIONS": ".safetensors"},
        )
        result = subprocess.run(
            ["bash", "-c", script],
            env={"NESTOPS_HOST_ROOT": str(host.sandbox), "PATH": os.environ["PATH"]},
            capture_output=True,
            text=True,
            check=True,
        )
        assert len(result.stdout) < 20 * 1024
        _rest, page = scripts.split_result(result.stdout)
        assert page is not None and isinstance(page["next"], int) and page["next"] > 0
    finally:
        for path in crowded.iterdir():
            path.unlink()
        Path(crowded).rmdir()
