"""Host sandboxes: the directory that stands for each simulated host's filesystem.

``<data-dir>/hosts/<instance-id>/`` reproduces the host's disk. A host from a WebUI image
(``layout`` ``webui``) has:

- ``root/stable-diffusion-webui/`` with ``webui.sh``, ``models/{Stable-diffusion,Lora,VAE,
  ControlNet}/``, ``embeddings/`` and ``extensions/``;
- ``etc/sd-webui/webui.env`` with ``COMMANDLINE_ARGS``;
- ``run/sd-webui.state`` (``active``/``inactive``) and ``run/sd-webui.enabled``;
- ``.sim/bin/`` with the ``systemctl`` and ``sudo`` shims, ``.sim/scripts/`` for OOS scripts.

A host from a base image (``layout`` ``base``) has only ``root/``, ``etc/``, ``run/``, ``tmp/``
and the shims, plus ``nvidia-smi`` when the image carries the GPU driver and
``usr/local/cuda/`` on the AI image: the WebUI is what a bootstrap script installs. A host from
a custom image starts with a copy of the snapshot behind it (``<data-dir>/snapshots/<id>/``,
taken by ``capture``).

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
UNIT_FILE = PurePosixPath("etc/systemd/system/sd-webui.service")
# What a snapshot leaves out: the scripts OOS ran, scratch files, the unit's running state.
NOT_CAPTURED = (".sim/scripts", "tmp", "run/sd-webui.state")
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
        self.snapshots = root.parent / "snapshots"

    def path(self, instance_id: str) -> Path:
        return self.root / instance_id

    def create(
        self,
        instance_id: str,
        *,
        layout: str = "webui",
        gpu: str = "driver",
        snapshot_id: str = "",
    ) -> Path:
        """Lays out a fresh disk (the image's, or a copy of ``snapshot_id``); an existing
        sandbox (a restart) is left as it is."""
        base = self.path(instance_id)
        if base.exists():
            return base
        staging = self.root / f".{instance_id}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        snapshot = self.snapshots / snapshot_id if snapshot_id else None
        if snapshot is not None and snapshot.is_dir():
            shutil.copytree(snapshot, staging, symlinks=True)
            for name in ("tmp", ".sim/scripts"):
                (staging / name).mkdir(parents=True, exist_ok=True)
        else:
            staging.mkdir(mode=PRIVATE_DIRECTORY)
            self._lay_out(staging, layout=layout, gpu=gpu)
        make_private(staging, PRIVATE_DIRECTORY)
        os.replace(staging, base)
        return base

    def _lay_out(self, staging: Path, *, layout: str, gpu: str) -> None:
        (staging / "root").mkdir()
        (staging / "etc").mkdir()
        (staging / "run").mkdir()
        (staging / "tmp").mkdir()
        bin_dir = staging / ".sim" / "bin"
        bin_dir.mkdir(parents=True)
        (staging / ".sim" / "scripts").mkdir()
        shims = ["systemctl", "sudo"] + (["nvidia-smi"] if gpu != "none" else [])
        for name in shims:
            shutil.copy2(HOST_TEMPLATE / f"{name}.sh", bin_dir / name)
            (bin_dir / name).chmod(0o755)
        if gpu == "ai":
            cuda = staging / "usr" / "local" / "cuda"
            cuda.mkdir(parents=True)
            (cuda / "version.json").write_text('{"cuda": {"version": "12.4.1"}}\n')
        if layout == "webui":
            self._lay_out_webui(staging)

    @staticmethod
    def _lay_out_webui(staging: Path) -> None:
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
        (staging / UNIT_FILE).parent.mkdir(parents=True)
        shutil.copy2(HOST_TEMPLATE / "sd-webui.service", staging / UNIT_FILE)
        (staging / "run" / "sd-webui.state").write_text("inactive\n")
        (staging / "run" / "sd-webui.enabled").write_text("enabled\n")

    def capture(self, instance_id: str, snapshot_id: str) -> None:
        """Copies the host's disk into ``snapshots/<snapshot_id>`` (CreateImage)."""
        self.snapshots.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIRECTORY)
        source = self.path(instance_id)
        target = self.snapshots / snapshot_id

        def skipped(directory: str, names: list[str]) -> set[str]:
            relative = Path(directory).relative_to(source)
            return {n for n in names if (relative / n).as_posix() in NOT_CAPTURED}

        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, symlinks=True, ignore=skipped)
        make_private(target, PRIVATE_DIRECTORY)

    def copy_snapshot(self, source_id: str, target_id: str) -> None:
        """CopyImage: the destination region gets a snapshot of its own."""
        source = self.snapshots / source_id
        if source.is_dir():
            shutil.copytree(source, self.snapshots / target_id, symlinks=True)

    def remove_snapshot(self, snapshot_id: str) -> None:
        if snapshot_id:
            shutil.rmtree(self.snapshots / snapshot_id, ignore_errors=True)

    def remove(self, instance_id: str) -> None:
        shutil.rmtree(self.path(instance_id), ignore_errors=True)

    def remove_all(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.snapshots, ignore_errors=True)
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
            # No unit on a base image until a bootstrap installs one (older sandboxes had the
            # unit without the file).
            if not (base / UNIT_FILE).exists() and not (base / WEBUI_DIR).is_dir():
                return
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
