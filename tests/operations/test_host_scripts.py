"""The host scripts' own checks, with values the control plane would never send.

Each script is rendered with hostile arguments and run with bash against a temporary
``NESTOPS_HOST_ROOT``: the script must refuse (exit 2, a "refused:" line) and leave everything
outside the WebUI's folders untouched.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from operations import scripts
from tests.gitserver import git

WEBUI = "root/stable-diffusion-webui"
ACCOUNT = {"WEBUI_USER": "admin", "WEBUI_PASSWORD": "pw123", "PORT": 9}


@pytest.fixture
def host(tmp_path: Path) -> Path:
    root = tmp_path / "host"
    for folder in ("models/Stable-diffusion", "models/Lora", "embeddings", "extensions"):
        (root / WEBUI / folder).mkdir(parents=True)
    (root / "root/.nestops/incoming").mkdir(parents=True)
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "precious.safetensors").write_text("keep me")
    return folder


def script_env(host: Path) -> dict[str, str]:
    return {
        "NESTOPS_HOST_ROOT": str(host),
        # Nothing listens there: the scripts must not depend on the WebUI's refresh.
        "NESTOPS_WEBUI_URL": "http://127.0.0.1:9",
        "PATH": os.environ["PATH"],
        "HOME": str(host / "root"),
    }


def run(host: Path, name: str, **arguments: str | int) -> subprocess.CompletedProcess[str]:
    script = scripts.render(name, {**ACCOUNT, **arguments})
    return subprocess.run(
        ["bash", "-c", script],
        env=script_env(host),
        capture_output=True,
        text=True,
        timeout=60,
    )


def refused(result: subprocess.CompletedProcess[str], reason: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "refused:" in result.stderr and reason in result.stderr, result.stderr


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def download_arguments(**overrides: str | int) -> dict[str, str | int]:
    return {
        "MODE": "download",
        "URL": "http://127.0.0.1:9/x.safetensors",
        "FOLDER": "models/Lora",
        "FILENAME": "x.safetensors",
        "SHA256": "",
        "OVERWRITE": 0,
        "MAX_BYTES": 10**9,
        "RESERVE_BYTES": 0,
        "EXTENSIONS": ".safetensors .ckpt",
        "TOKEN": "",
        "ALLOW_PRIVATE": 1,
        **overrides,
    }


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"FOLDER": "models/../../../outside"}, "'.' or '..' parts"),
        ({"FOLDER": "/etc"}, "models go under models/ or embeddings/"),
        ({"FOLDER": "models//Lora"}, "absolute or has empty"),
        ({"FOLDER": "extensions/x"}, "models go under models/ or embeddings/"),
        ({"FOLDER": "models/Lora/link"}, "leads out of models/"),
        ({"FILENAME": "../../../outside/precious.safetensors"}, "is not a file name"),
        ({"FILENAME": "x\n.safetensors"}, "control characters"),
        ({"FILENAME": "-x.safetensors"}, "must not start with"),
        ({"FILENAME": "x.sh"}, "does not end with one of"),
        ({"URL": "file:///etc/passwd"}, "only http:// and https://"),
        ({"URL": "-Kconfig http://x/y"}, "only http:// and https://"),
        ({"SHA256": "$(id)"}, "64 hexadecimal"),
        ({"TOKEN": 'abc"\nurl = "file:///etc/passwd'}, "characters a token cannot have"),
        ({"WEBUI_PASSWORD": 'pw"\noutput = "/tmp/x'}, "characters nestops never generates"),
        ({"MAX_BYTES": "1; touch x"}, "size limits are not numbers"),
    ],
)
def test_download_model_refuses_what_the_control_plane_would_not_send(
    host: Path, outside: Path, overrides: dict[str, str], reason: str
) -> None:
    (host / WEBUI / "models/Lora/link").symlink_to(outside)
    before = snapshot(outside)
    result = run(host, "download_model", **download_arguments(**overrides))
    refused(result, reason)
    assert snapshot(outside) == before
    assert not [p for p in outside.iterdir() if p.name != "precious.safetensors"]


def test_a_models_folder_that_is_a_symlink_out_of_the_webui_is_refused(
    host: Path, outside: Path
) -> None:
    lora = host / WEBUI / "models/Lora"
    lora.rmdir()
    lora.symlink_to(outside)
    result = run(host, "download_model", **download_arguments())
    refused(result, "leads out of models/")
    models = host / WEBUI / "models"
    models_real = host / "elsewhere"
    models.rename(models_real)
    models.symlink_to(models_real)
    refused(
        run(host, "download_model", **download_arguments(FOLDER="models/VAE")), "models/ leads out"
    )


def test_an_existing_symlink_target_is_never_written_through(host: Path, outside: Path) -> None:
    (host / WEBUI / "models/Lora/x.safetensors").symlink_to(outside / "precious.safetensors")
    result = run(host, "download_model", **download_arguments(OVERWRITE=1))
    refused(result, "exists and is not a regular file")
    assert (outside / "precious.safetensors").read_text() == "keep me"


def test_delete_model_removes_a_link_but_never_its_target(host: Path, outside: Path) -> None:
    link = host / WEBUI / "models/Lora/linked.safetensors"
    link.symlink_to(outside / "precious.safetensors")
    result = run(host, "delete_model", PATH="models/Lora/linked.safetensors")
    assert result.returncode == 0, result.stderr
    assert not link.is_symlink() and (outside / "precious.safetensors").exists()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("models/../../../outside/precious.safetensors", "'.' or '..' parts"),
        ("models/Lora/through/precious.safetensors", "leads out of models/"),
        ("outside/precious.safetensors", "under models/ or embeddings/"),
        ("precious.safetensors", "not inside a model folder"),
        ("models/Lora/..", "is not a file name"),
        ("models/Lora", "is a folder"),
    ],
)
def test_delete_model_refuses_paths_out_of_the_model_folders(
    host: Path, outside: Path, path: str, reason: str
) -> None:
    (host / WEBUI / "models/Lora/through").symlink_to(outside)
    result = run(host, "delete_model", PATH=path)
    refused(result, reason)
    assert (outside / "precious.safetensors").read_text() == "keep me"


def test_place_preview_checks_what_it_moves_and_where(host: Path, outside: Path) -> None:
    incoming = host / "root/.nestops/incoming"
    (host / WEBUI / "models/Lora/m.safetensors").write_text("model")
    (incoming / "fake.png").write_text("not a png")
    refused(
        run(host, "place_preview", MODEL_PATH="models/Lora/m.safetensors", STAGED="fake.png"),
        "not a PNG",
    )
    (incoming / "link.png").symlink_to(outside / "precious.safetensors")
    refused(
        run(host, "place_preview", MODEL_PATH="models/Lora/m.safetensors", STAGED="link.png"),
        "was not received",
    )
    assert (outside / "precious.safetensors").read_text() == "keep me"
    refused(
        run(host, "place_preview", MODEL_PATH="models/Lora/m.safetensors", STAGED="../../x.png"),
        "is not a file name",
    )
    (incoming / "ok.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 10)
    (host / WEBUI / "models/Lora/m.preview.png").symlink_to(outside / "precious.safetensors")
    refused(
        run(host, "place_preview", MODEL_PATH="models/Lora/m.safetensors", STAGED="ok.png"),
        "exists and is not a regular file",
    )
    assert (outside / "precious.safetensors").read_text() == "keep me"
    assert not (incoming / "ok.png").exists()  # a refused preview is not left behind


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"NAME": "../../outside"}, "is not an extension folder name"),
        ({"NAME": "-x"}, "is not an extension folder name"),
        ({"URL": "ext::sh -c id"}, "https:// only"),
        ({"URL": "file:///etc"}, "https:// only"),
        ({"URL": "--upload-pack=id"}, "https:// only"),
        ({"URL": "http://127.0.0.1:9/o/ext", "ALLOW_PRIVATE": 0}, "https:// only"),
        ({"URL": "https://127.0.0.1:9/o/ext", "ALLOW_PRIVATE": 0}, "loopback or private"),
        ({"URL": "https://2130706433/o/ext"}, "dotted address"),
        ({"URL": "https://[::ffff:100.100.100.200]/o/ext"}, "metadata"),
        ({"REF": "-b"}, "is not a branch, tag or commit"),
        ({"REF": "--upload-pack=touch x"}, "is not a branch, tag or commit"),
        ({"REF": "a..b"}, "is not a branch, tag or commit"),
        ({"MODE": "rm"}, "unknown mode"),
    ],
)
def test_install_extension_refuses_what_the_control_plane_would_not_send(
    host: Path, overrides: dict[str, str], reason: str
) -> None:
    arguments = {
        "MODE": "install",
        "NAME": "ext",
        "URL": "http://127.0.0.1:9/o/ext",
        "REF": "",
        "RESTART": 0,
        "TIMEOUT": 5,
        "ALLOW_PRIVATE": 1,
        **overrides,
    }
    refused(run(host, "install_extension", **arguments), reason)
    assert list((host / WEBUI / "extensions").iterdir()) == []


def test_an_extensions_folder_that_leads_out_is_refused(host: Path, outside: Path) -> None:
    extensions = host / WEBUI / "extensions"
    extensions.rmdir()
    extensions.symlink_to(outside)
    arguments = {"NAME": "ext", "RESTART": 0, "TIMEOUT": 5, "ALLOW_PRIVATE": 1}
    refused(
        run(host, "install_extension", MODE="install", URL="http://x/o/e", REF="", **arguments),
        "extensions/ leads out",
    )
    refused(run(host, "remove_extension", **arguments), "extensions/ leads out")
    assert (outside / "precious.safetensors").exists()


def test_remove_extension_removes_a_link_but_never_its_target(host: Path, outside: Path) -> None:
    (host / WEBUI / "extensions/linked").symlink_to(outside)
    result = run(host, "remove_extension", NAME="linked", RESTART=0, TIMEOUT=5)
    assert result.returncode == 0, result.stderr
    assert not (host / WEBUI / "extensions/linked").is_symlink()
    assert (outside / "precious.safetensors").read_text() == "keep me"
    refused(run(host, "remove_extension", NAME="..", RESTART=0, TIMEOUT=5), "not an extension")


def test_update_refuses_a_folder_that_is_not_a_checkout_of_its_own(host: Path) -> None:
    git("init", "-q", str(host / WEBUI))
    (host / WEBUI / "extensions/plain").mkdir()
    result = run(
        host,
        "install_extension",
        MODE="update",
        NAME="plain",
        URL="http://127.0.0.1:9/o/plain",
        REF="",
        RESTART=0,
        TIMEOUT=5,
        ALLOW_PRIVATE=1,
    )
    refused(result, "not a git checkout")


def test_inventory_does_not_follow_a_models_folder_out_of_the_webui(
    host: Path, outside: Path
) -> None:
    models = host / WEBUI / "models"
    (models / "Lora/own.safetensors").write_text("x")
    moved = host / "moved-models"
    models.rename(moved)
    models.symlink_to(outside)
    result = run(host, "inventory", OFFSET=0, BUDGET=10000, EXTENSIONS=".safetensors")
    assert result.returncode == 0, result.stderr
    _rest, listing = scripts.split_result(result.stdout)
    assert listing is not None and listing["models"] == []


def test_every_script_fits_oos_with_the_longest_arguments() -> None:
    from cloud.oos import MAX_SCRIPT_CHARS

    longest = download_arguments(URL="https://h.example/" + "x" * 1980, TOKEN="t" * 512)
    assert len(scripts.render("download_model", {**ACCOUNT, **longest})) < MAX_SCRIPT_CHARS
    for name in (
        "delete_model",
        "place_preview",
        "install_extension",
        "remove_extension",
        "download_progress",
    ):
        assert len(scripts.render(name, {"PATH": "p" * 500, "URL": "u" * 500})) < MAX_SCRIPT_CHARS
