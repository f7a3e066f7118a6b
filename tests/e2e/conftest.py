"""End-to-end fixtures: real Celery workers on the configured broker (filesystem or Redis)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection

from nestops.celery import app
from tests.conftest import use_broker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fast_operations(settings) -> None:
    settings.NESTOPS_POLL_SECONDS = 0.2
    settings.NESTOPS_RETRY_BASE_SECONDS = 0.05
    settings.NESTOPS_RETRY_MAX_SECONDS = 0.5
    settings.NESTOPS_WEBUI_READY_TIMEOUT_SECONDS = 30


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    """The configured broker, emptied; a filesystem broker gets a folder of the test's own."""
    url = django_settings.CELERY_BROKER_URL
    saved = dict(app.conf.broker_transport_options or {})
    if url.startswith("filesystem"):
        folder = tmp_path / "broker"
        for name in ("queue", "processed", "control"):
            (folder / name).mkdir(parents=True)
        app.conf.broker_transport_options = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
        }
    use_broker(url)
    app.control.purge()
    yield url
    app.control.purge()
    app.conf.broker_transport_options = saved
    use_broker("memory://")


@pytest.fixture
def worker(transactional_db, broker, fast_operations) -> Iterator[Any]:
    """A Celery worker in a thread of the test process."""
    from celery.contrib.testing.worker import start_worker

    with start_worker(
        app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=20
    ) as running:
        yield running


def database_url() -> str:
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


class WorkerProcess:
    """``celery -A nestops worker`` in its own process, pointed at the test database."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "nestops",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-step, holding its lease and unacked messages."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def worker_processes(transactional_db, broker, fast_operations, sim, tmp_path) -> Iterator[Any]:
    """Starts worker processes on demand; all are stopped at the end of the test."""
    started: list[WorkerProcess] = []
    env = {
        **{k: v for k, v in os.environ.items() if "PROXY" not in k.upper()},
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker,
        "NESTOPS_SIM_ENDPOINT": sim.endpoint,
        "NESTOPS_POLL_SECONDS": "0.2",
        "NESTOPS_RETRY_BASE_SECONDS": "0.05",
        "NESTOPS_RETRY_MAX_SECONDS": "0.5",
        "NESTOPS_LEASE_SECONDS": str(django_settings.NESTOPS_LEASE_SECONDS),
        "NESTOPS_WEBUI_READY_TIMEOUT_SECONDS": "30",
        "NESTOPS_VAR_DIR": str(tmp_path / "var"),
        "NESTOPS_SECRET_KEY": django_settings.SECRET_KEY,
    }
    if broker.startswith("filesystem"):
        env["NESTOPS_BROKER_DIR"] = str(
            Path(app.conf.broker_transport_options["data_folder_in"]).parent
        )

    def start(**extra_env: str) -> WorkerProcess:
        process = WorkerProcess({**env, **extra_env}, tmp_path / f"worker-{len(started)}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def wait_for(predicate, *, timeout: float = 60.0, interval: float = 0.1, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what or predicate}")
