"""What the simulated WebUI reads from its host sandbox: the unit's arguments and the models.

``etc/sd-webui/webui.env`` holds ``COMMANDLINE_ARGS``; ``--api`` enables ``/sdapi``,
``--api-auth user:pass[,user2:pass2]`` protects it and ``--gradio-auth`` protects the UI. The file
is re-read whenever its mtime or size changes, like a restarted WebUI would.
"""

from __future__ import annotations

import hashlib
import shlex
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cloudsim.sandbox import ENV_FILE, WEBUI_DIR

CHECKPOINT_SUFFIXES = (".safetensors", ".ckpt")
LORA_SUFFIXES = (".safetensors", ".pt", ".ckpt")
VAE_SUFFIXES = (".safetensors", ".pt", ".ckpt")


@dataclass(frozen=True)
class LaunchOptions:
    """The parts of COMMANDLINE_ARGS the simulated WebUI honours."""

    api: bool = False
    api_auth: tuple[tuple[str, str], ...] = ()
    gradio_auth: tuple[tuple[str, str], ...] = ()
    port: int = 7860
    # Host paths of the TLS key and certificate (both set: the WebUI serves HTTPS only).
    tls_keyfile: str = ""
    tls_certfile: str = ""


def _credentials(value: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in value.split(","):
        user, sep, password = item.strip().partition(":")
        if sep and user:
            pairs.append((user, password))
    return tuple(pairs)


def parse_launch_options(text: str) -> LaunchOptions:
    args: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("export "):
            line = line[len("export ") :].strip()
        name, sep, value = line.partition("=")
        if not sep or name.strip() != "COMMANDLINE_ARGS":
            continue
        try:
            value = " ".join(shlex.split(value))
            args = shlex.split(value)
        except ValueError:
            args = value.split()
    api = False
    api_auth: tuple[tuple[str, str], ...] = ()
    gradio_auth: tuple[tuple[str, str], ...] = ()
    port = 7860
    tls: dict[str, str] = {}
    index = 0
    while index < len(args):
        arg = args[index]
        name, eq, inline = arg.partition("=")
        value = inline if eq else (args[index + 1] if index + 1 < len(args) else "")
        consumed = 1 if eq else 2
        if name == "--api":
            api = True
            consumed = 1
        elif name == "--api-auth":
            api_auth = _credentials(value)
        elif name == "--gradio-auth":
            gradio_auth = _credentials(value)
        elif name in ("--tls-keyfile", "--tls-certfile"):
            tls[name] = value
        elif name == "--port" and value.isdigit():
            port = int(value)
        else:
            consumed = 1
        index += consumed
    return LaunchOptions(
        api=api,
        api_auth=api_auth,
        gradio_auth=gradio_auth,
        port=port,
        tls_keyfile=tls.get("--tls-keyfile", ""),
        tls_certfile=tls.get("--tls-certfile", ""),
    )


class HostFiles:
    """Cached reads of one sandbox's env file and model files."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._options: dict[Path, tuple[tuple[int, int], LaunchOptions]] = {}
        self._hashes: dict[Path, tuple[tuple[int, int], str]] = {}

    def launch_options(self, sandbox: Path) -> LaunchOptions:
        path = sandbox / ENV_FILE
        try:
            stat = path.stat()
        except OSError:
            return LaunchOptions()
        key = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._options.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            options = parse_launch_options(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return LaunchOptions()
        with self._lock:
            self._options[path] = (key, options)
        return options

    def sha256(self, path: Path) -> str:
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._hashes.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        value = digest.hexdigest()
        with self._lock:
            self._hashes[path] = (key, value)
        return value

    def model_files(self, sandbox: Path, folder: str, suffixes: tuple[str, ...]) -> list[Path]:
        base = sandbox / WEBUI_DIR / "models" / folder
        if not base.is_dir():
            return []
        return sorted(p for p in base.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)


def host_view(sandbox: Path, path: Path) -> str:
    """The path as the host itself sees it: ``/root/stable-diffusion-webui/...``."""
    return str(PurePosixPath("/") / path.relative_to(sandbox).as_posix())
