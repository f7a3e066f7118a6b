"""Files at rest that only the account running nestops may read.

The embedded mode keeps live session keys (the SQLite database), the secret key and queued
task messages under ``var/``. Every process that loads the settings (web, worker, beat,
``manage.py``) sets a umask so what it creates is private, and fixes the modes of what an
older version left readable by others.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
# SQLite creates these next to the database; they hold recent pages of it.
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def restrict_umask() -> None:
    os.umask(PRIVATE_UMASK)


def private_directory(path: Path) -> Path:
    """Creates ``path`` (and parents) if missing, and makes it 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
    _chmod(path, DIRECTORY_MODE)
    return path


def private_file(path: Path) -> None:
    """Makes an existing file 0600; a missing one is left missing."""
    _chmod(path, FILE_MODE)


def private_sqlite_files(database: str | Path) -> None:
    """The database and its journal, WAL and shared-memory files, where they exist."""
    for suffix in SQLITE_COMPANIONS:
        private_file(Path(f"{database}{suffix}"))


def _chmod(path: Path, mode: int) -> None:
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except FileNotFoundError:
        pass
    except PermissionError:
        # A folder mounted from elsewhere (a Docker volume) may belong to another account;
        # its owner decides its mode.
        pass
