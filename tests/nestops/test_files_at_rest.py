"""What the embedded mode keeps in var/ is readable by the account running nestops only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(var: Path, *args: str) -> str:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("NESTOPS_", "DATABASE_"))},
        "NESTOPS_VAR_DIR": str(var),
        "CELERY_BROKER_URL": "filesystem://",
    }
    env.pop("NESTOPS_BROKER_DIR", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_fresh_install_creates_private_files_and_folders(tmp_path: Path) -> None:
    var = tmp_path / "var"
    manage(var, "migrate", "--noinput")

    assert mode(var) == 0o700
    assert mode(var / "nestops.sqlite3") == 0o600
    assert mode(var / "secret-key") == 0o600
    for folder in ("broker", "broker/queue", "broker/processed", "broker/control"):
        assert mode(var / folder) == 0o700, folder
    # While a connection is open, SQLite keeps recent pages in the WAL and shared-memory files.
    live = manage(
        var,
        "shell",
        "-c",
        "import os; from django.db import connection; connection.cursor().execute('SELECT 1');"
        "name = connection.settings_dict['NAME'];"
        "print(*(oct(os.stat(f'{name}-{s}').st_mode & 0o777) for s in ('wal', 'shm')))",
    )
    assert live.strip().splitlines()[-1].split() == ["0o600", "0o600"]


def test_files_an_older_version_left_readable_are_made_private(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)
    (var / "broker" / "queue").mkdir(parents=True)
    (var / "broker" / "queue").chmod(0o755)
    readable = ["nestops.sqlite3", "nestops.sqlite3-wal", "nestops.sqlite3-shm", "secret-key"]
    for name in readable:
        (var / name).write_bytes(b"" if name.startswith("nestops") else b"k" * 50)
        (var / name).chmod(0o644)

    manage(var, "check")

    assert mode(var) == 0o700
    assert mode(var / "broker" / "queue") == 0o700
    for name in readable:
        assert mode(var / name) == 0o600, name
