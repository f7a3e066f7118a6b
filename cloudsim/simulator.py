"""The simulator as one object: configuration, clock, state, and the parts that act on them.

Also where state reaches the disk: ``<data-dir>/state.json``, written atomically (temporary
file + rename) by a background flusher at most about once a second when something changed,
and once more at shutdown.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

# The action modules register their handlers when imported.
from cloudsim import (
    account,
    cms,
    ecs,
    ecs_catalog,
    ecs_describe,
    ecs_files,
    ecs_images,
    ecs_run,
    ecs_security,
    vpc,
)
from cloudsim import oos as oos_actions
from cloudsim.api import CallCounter
from cloudsim.catalog import Catalog, default_catalog
from cloudsim.clock import SimClock, iso_seconds
from cloudsim.config import SimConfig
from cloudsim.control import Control
from cloudsim.faults import Faults
from cloudsim.images import sandbox_source
from cloudsim.ram import Ram
from cloudsim.runner import ScriptRunner
from cloudsim.sandbox import PRIVATE_DIRECTORY, PRIVATE_FILE, Sandboxes, make_private
from cloudsim.state import State
from cloudsim.webui import WebUI
from cloudsim.webui_tls import PORT_FILE as TLS_PORT_FILE
from cloudsim.webui_tls import TlsListeners

ACTION_MODULES = (
    cms,
    ecs,
    ecs_catalog,
    ecs_describe,
    ecs_files,
    ecs_images,
    ecs_run,
    ecs_security,
    oos_actions,
    vpc,
)
STATE_FORMAT = "cloudsim-state"
STATE_VERSION = 1
FLUSH_INTERVAL = 1.0


class Simulator:
    """Everything one running cloudsim holds."""

    def __init__(self, config: SimConfig, catalog: Catalog | None = None) -> None:
        self.config = config
        self.catalog = catalog or default_catalog()
        self.clock = SimClock(config.speed)
        self.state = State(self.catalog)
        self.faults = Faults()
        self.ram = Ram()
        self.account = account.Account()
        self.calls = CallCounter()
        self.sandboxes = Sandboxes(config.data_dir / "hosts")
        self.runner = ScriptRunner(self)
        self.webui = WebUI(self)
        self.webui_tls = TlsListeners(self)
        self.control = Control(self)
        self.base_url = f"http://{config.host}:{config.port}"
        self.state_path = config.data_dir / "state.json"
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None

    def webui_url(self, instance_id: str) -> str:
        return f"{self.base_url}/hosts/{instance_id}"

    def webui_tls_port(self, instance_id: str) -> int:
        """The port of the host's TLS listener (see ``cloudsim.webui_tls``)."""
        from cloudsim.server import Application

        return self.webui_tls.port(instance_id, Application(self))

    # --- persistence ---------------------------------------------------------------------

    def load(self) -> None:
        """Restores the saved state, if any; running OOS executions come back Failed."""
        self.config.data_dir.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIRECTORY)
        make_private(self.config.data_dir, PRIVATE_DIRECTORY)
        make_private(self.state_path, PRIVATE_FILE)
        self.sandboxes.make_all_private()
        if not self.state_path.exists():
            return
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
            if data.get("format") != STATE_FORMAT:
                raise ValueError("not a cloudsim state file")
            with self.state.lock:
                self.state.load_dict(data["state"])
                self.clock.resume_from(float(data["clock"]["now"]))
                oos_actions.fail_interrupted(self.state, self.clock.now())
                for instance in self.state.instances.values():
                    source = sandbox_source(self, instance.image_id)
                    self.sandboxes.create(instance.instance_id, **source)
                self.state.touch()
                tls_hosts = [
                    instance_id
                    for instance_id in self.state.instances
                    if (self.sandboxes.path(instance_id) / TLS_PORT_FILE).is_file()
                ]
            # A host that served TLS answers again on its port, before any script runs there.
            for instance_id in tls_hosts:
                self.webui_tls_port(instance_id)
        except (OSError, ValueError, KeyError, TypeError) as error:
            backup = self.state_path.with_name(f"state.json.unreadable-{int(time.time())}")
            os.replace(self.state_path, backup)
            self.state.reset()
            print(
                f"cloudsim: could not read {self.state_path} ({error}); starting empty, the file "
                f"was kept as {backup.name}",
                file=sys.stderr,
            )

    def flush(self) -> None:
        """Writes state.json if anything changed since the last write."""
        with self._flush_lock:
            with self.state.lock:
                if not self.state.dirty:
                    return
                document: dict[str, Any] = {
                    "format": STATE_FORMAT,
                    "version": STATE_VERSION,
                    "saved_at": iso_seconds(time.time()),
                    "clock": {"now": self.clock.now()},
                    "state": self.state.to_dict(),
                }
                text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
                self.state.dirty = False
            temporary = self.state_path.with_name(f".state.json.{os.getpid()}.tmp")
            try:
                descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
                with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                    os.fchmod(handle.fileno(), PRIVATE_FILE)
                    handle.write(text)
                os.replace(temporary, self.state_path)
            except OSError as error:
                self.state.touch()  # try again next time
                print(f"cloudsim: could not write {self.state_path}: {error}", file=sys.stderr)

    def start_flusher(self) -> None:
        def loop() -> None:
            while not self._stop.wait(FLUSH_INTERVAL):
                try:
                    self.flush()
                except Exception as error:  # the flusher must outlive one bad write
                    print(f"cloudsim: state flush failed: {error!r}", file=sys.stderr)

        self._flusher = threading.Thread(target=loop, name="cloudsim-flusher", daemon=True)
        self._flusher.start()

    def shutdown(self) -> None:
        """Stops scripts and the flusher, then writes the state one last time."""
        self._stop.set()
        self.runner.shutdown()
        self.webui_tls.shutdown()
        if self._flusher is not None:
            self._flusher.join(timeout=5)
        self.state.touch()
        self.flush()

    def reset(self) -> None:
        """Back to the catalogue's initial state: no resources, initial stock, no faults."""
        self.runner.kill_all()
        with self.state.lock:
            self.state.reset()
            self.sandboxes.remove_all()
        self.faults.clear()
        self.ram.clear()
        self.account.reset()
        self.calls.reset()


def data_dir_usable(path: Path) -> str | None:
    """A one-line reason why ``path`` cannot hold the simulator's data, or None."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f"cannot create the data directory {path}: {error.strerror}"
    if not os.access(path, os.W_OK):
        return f"the data directory {path} is not writable"
    return None
