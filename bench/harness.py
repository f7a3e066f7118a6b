"""What the benchmark scripts share: a throw-away Django database, a cloudsim, figures.

A benchmark runs against its own database (SQLite in a temporary folder, or
``BENCH_DATABASE_URL`` for PostgreSQL) and its own cloudsim, never against ``var/``. Figures
are printed as ``name: value`` lines and saved to ``var/bench/<script>.json`` for
``docs/benchmarks.md``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_name, None)


def setup_django(workdir: Path) -> None:
    """Points Django at a fresh database in ``workdir`` (or BENCH_DATABASE_URL) and migrates."""
    os.environ["NESTOPS_VAR_DIR"] = str(workdir / "var")
    os.environ["DATABASE_URL"] = os.environ.get(
        "BENCH_DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nestops.settings")
    os.environ.setdefault("NESTOPS_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    if os.environ["DATABASE_URL"].startswith("postgres"):
        call_command("flush", "--noinput", verbosity=0)
    call_command("migrate", "--noinput", verbosity=0)


def local_postgres(database: str = "nestops_bench") -> str | None:
    """A PostgreSQL URL on 127.0.0.1 (creating the database) if one answers, else None."""
    try:
        import psycopg

        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=2
        ) as connection:
            found = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
            ).fetchone()
            if not found:
                connection.execute(f'CREATE DATABASE "{database}"')
    except Exception:  # no server, no trust auth: the caller falls back to SQLite
        return None
    return f"postgres://postgres@127.0.0.1:5432/{database}"


def local_redis(db: int = 14) -> str | None:
    """A Redis URL on 127.0.0.1 if one answers, else None."""
    try:
        import redis

        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2).ping()
    except Exception:
        return None
    return f"redis://127.0.0.1:6379/{db}"


def workdir(name: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"nestops-bench-{name}-"))


def start_cloudsim(folder: Path, speed: float = 1000.0) -> Any:
    from django.conf import settings

    from cloudsim.testing import start_sim

    sim = start_sim(folder, speed=speed)
    settings.NESTOPS_SIM_ENDPOINT = sim.endpoint
    settings.NESTOPS_SIM_ACCESS_KEY_ID = sim.access_key_id
    settings.NESTOPS_SIM_ACCESS_KEY_SECRET = sim.access_key_secret
    return sim


def timed(function: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Wall seconds of each run, and the last run's result."""
    durations = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        durations.append(time.perf_counter() - started)
    return durations, result


def median(values: list[float]) -> float:
    return statistics.median(values)


def report(script: str, figures: dict[str, Any], notes: str = "") -> None:
    for key, value in figures.items():
        shown = f"{value:.3f}" if isinstance(value, float) else value
        print(f"{key}: {shown}")
    if notes:
        print(notes)
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{script}.json").write_text(
        json.dumps(
            {"figures": figures, "notes": notes, "at": time.strftime("%Y-%m-%d %H:%M")}, indent=2
        )
    )
