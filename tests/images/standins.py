"""Local stand-ins for what the bootstrap downloads: a git repository of the WebUI (tagged at
the pinned version), one of the localization, and a wheel folder with the WebUI's one
requirement. The bootstrap's real logic then runs in cloudsim's bash without the internet."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import zipfile
from pathlib import Path

WEBUI_REF = "v1.10.1"
PACKAGE = "nestops_standin"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def git_repository(path: Path, files: dict[str, str], tag: str = "") -> Path:
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    _git(path, "init", "-q", "-b", "main")
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "-m", "stand-in")
    if tag:
        _git(path, "tag", tag)
    return path


def wheel_folder(path: Path) -> Path:
    """A folder holding one pure-Python wheel, built by hand (no network, no build backend)."""
    path.mkdir(parents=True)
    dist = f"{PACKAGE}-1.0.dist-info"
    files = {
        f"{PACKAGE}/__init__.py": "VERSION = '1.0'\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {PACKAGE}\nVersion: 1.0\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: nestops-tests\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = "\n".join(record) + "\n"
    with zipfile.ZipFile(path / f"{PACKAGE}-1.0-py3-none-any.whl", "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
    return path


def sources(root: Path) -> dict[str, str]:
    """The settings that point the bootstrap at the stand-ins."""
    webui = git_repository(
        root / "stable-diffusion-webui",
        {
            "webui.sh": "#!/bin/bash\necho 'Running on local URL:  http://0.0.0.0:7860'\n",
            "requirements_versions.txt": f"{PACKAGE}==1.0\n",
        },
        tag=WEBUI_REF,
    )
    localization = git_repository(
        root / "localization-zh_CN",
        {"localizations/zh_CN.json": '{"Generate": "生成"}\n'},
    )
    return {
        "NESTOPS_BOOTSTRAP_WEBUI_REPO": str(webui),
        "NESTOPS_BOOTSTRAP_WEBUI_REF": WEBUI_REF,
        "NESTOPS_BOOTSTRAP_FORGE_REPO": str(webui),
        "NESTOPS_BOOTSTRAP_FORGE_REF": WEBUI_REF,
        "NESTOPS_BOOTSTRAP_LOCALIZATION_REPO": str(localization),
        "NESTOPS_BOOTSTRAP_PIP_INDEX_URL": "",
        "NESTOPS_BOOTSTRAP_PIP_FIND_LINKS": str(wheel_folder(root / "wheels")),
        "NESTOPS_GITHUB_MIRROR": "",
    }
