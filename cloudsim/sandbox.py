"""Host sandboxes: the directory that stands for each simulated host's filesystem.

``<data-dir>/hosts/<instance-id>/`` reproduces the WebUI image:

- ``root/stable-diffusion-webui/`` with ``webui.sh``, ``models/{Stable-diffusion,Lora,VAE,
  ControlNet}/``, ``embeddings/`` and ``extensions/``;
- ``etc/sd-webui/webui.env`` with ``COMMANDLINE_ARGS``;
- ``run/sd-webui.state`` (``active``/``inactive``) and ``run/sd-webui.enabled``;
- ``.sim/bin/`` with the ``systemctl`` and ``sudo`` shims, ``.sim/scripts/`` for OOS scripts.

OOS scripts see it as ``$NESTOPS_HOST_ROOT`` (empty on a real host).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from pathlib import Path, PurePosixPath

from cloudsim.catalog import DATA_DIR

HOST_TEMPLATE = DATA_DIR / "host"
WEBUI_DIR = PurePosixPath("root/stable-diffusion-webui")
ENV_FILE = PurePosixPath("etc/sd-webui/webui.env")
PLACEHOLDER_MODEL = "v1-5-pruned-emaonly.safetensors"
MODEL_DIRS = ("Stable-diffusion", "Lora", "VAE", "ControlNet")
# A host holds the WebUI password (webui.env) and the scripts sent to it (site tokens).
PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600


def make_private(path: Path, mode: int) -> None:
    """chmod, for a path that may have gone meanwhile."""
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except FileNotFoundError:
        pass


class SandboxPathError(ValueError):
    """A host path that would leave the sandbox."""


def placeholder_safetensors() -> bytes:
    """A valid safetensors file without tensors: 8-byte header length, then the JSON header."""
    header = json.dumps(
        {"__metadata__": {"format": "pt", "cloudsim": "placeholder checkpoint"}}
    ).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header


class Sandboxes:
    """Creates, finds and removes host sandboxes under ``<data-dir>/hosts``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, instance_id: str) -> Path:
        return self.root / instance_id

    def create(self, instance_id: str) -> Path:
        """Lays out a fresh image; an existing sandbox (a restart) is left as it is."""
        base = self.path(instance_id)
        if base.exists():
            return base
        staging = self.root / f".{instance_id}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=PRIVATE_DIRECTORY)
        make_private(staging, PRIVATE_DIRECTORY)
        webui = staging / WEBUI_DIR
        for name in MODEL_DIRS:
            (webui / "models" / name).mkdir(parents=True)
        for name in ("embeddings", "extensions", "outputs"):
            (webui / name).mkdir()
        (webui / "models" / "Stable-diffusion" / PLACEHOLDER_MODEL).write_bytes(
            placeholder_safetensors()
        )
        shutil.copy2(HOST_TEMPLATE / "webui.sh", webui / "webui.sh")
        (staging / ENV_FILE).parent.mkdir(parents=True)
        shutil.copy2(HOST_TEMPLATE / "webui.env.txt", staging / ENV_FILE)
        (staging / "run").mkdir()
        (staging / "run" / "sd-webui.state").write_text("inactive\n")
        (staging / "run" / "sd-webui.enabled").write_text("enabled\n")
        (staging / "tmp").mkdir()
        bin_dir = staging / ".sim" / "bin"
        bin_dir.mkdir(parents=True)
        (staging / ".sim" / "scripts").mkdir()
        for name in ("systemctl", "sudo"):
            shutil.copy2(HOST_TEMPLATE / f"{name}.sh", bin_dir / name)
            (bin_dir / name).chmod(0o755)
        os.replace(staging, base)
        return base

    def remove(self, instance_id: str) -> None:
        shutil.rmtree(self.path(instance_id), ignore_errors=True)

    def remove_all(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIRECTORY)

    def make_all_private(self) -> None:
        """Fixes the modes an older cloudsim left: sandboxes 0700, their scripts 0600."""
        self.root.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIRECTORY)
        make_private(self.root, PRIVATE_DIRECTORY)
        for sandbox in self.root.iterdir():
            if sandbox.is_dir():
                make_private(sandbox, PRIVATE_DIRECTORY)
                scripts = sandbox / ".sim" / "scripts"
                for script in scripts.glob("*") if scripts.is_dir() else ():
                    make_private(script, PRIVATE_FILE)

    def unit_state(self, instance_id: str) -> str:
        try:
            return (self.path(instance_id) / "run" / "sd-webui.state").read_text().strip()
        except OSError:
            return "inactive"

    def boot(self, instance_id: str) -> None:
        """The host is starting: an enabled unit comes up with it."""
        base = self.path(instance_id)
        try:
            enabled = (base / "run" / "sd-webui.enabled").read_text().strip() == "enabled"
        except OSError:
            enabled = True
        self._write_state(base, "active" if enabled else "inactive")

    def shut_down(self, instance_id: str) -> None:
        self._write_state(self.path(instance_id), "inactive")

    @staticmethod
    def _write_state(base: Path, state: str) -> None:
        run = base / "run"
        if not run.is_dir():
            return
        temporary = run / "sd-webui.state.cloudsim"
        temporary.write_text(f"{state}\n")
        os.replace(temporary, run / "sd-webui.state")


def host_path(sandbox: Path, absolute: str) -> Path:
    """Maps a path of the host (``/root/x``) into its sandbox; refuses to climb out of it."""
    posix = PurePosixPath(absolute)
    if not posix.is_absolute():
        raise SandboxPathError(f"{absolute!r} is not an absolute path")
    if ".." in posix.parts:
        raise SandboxPathError(f"{absolute!r} must not contain '..'")
    return sandbox.joinpath(*posix.parts[1:])
