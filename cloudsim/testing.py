"""Start a real cloudsim in a subprocess and drive its ``/_sim/`` API (for tests and benches).

::

    sim = start_sim(tmp_path, speed=20)
    Config(access_key_id=sim.access_key_id, access_key_secret=sim.access_key_secret,
           endpoint=sim.endpoint, protocol="http")
    ...
    sim.stop()

Only ``urllib`` with proxies disabled talks to ``/_sim/``: the simulator is on loopback and a
proxy from the environment must never see its traffic.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cloudsim.config import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET

PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)
STARTUP_TIMEOUT = 20.0
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class SimError(RuntimeError):
    """cloudsim did not start, or a ``/_sim/`` call failed."""


class RunningSim:
    """A cloudsim subprocess and the client of its control API."""

    def __init__(
        self,
        process: subprocess.Popen[str],
        port: int,
        data_dir: Path,
        access_key_id: str,
        access_key_secret: str,
        log_path: Path,
    ) -> None:
        self.process = process
        self.port = port
        self.endpoint = f"127.0.0.1:{port}"
        self.base_url = f"http://127.0.0.1:{port}"
        self.data_dir = data_dir
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.log_path = log_path

    # --- lifecycle -----------------------------------------------------------------------

    def stop(self) -> None:
        """SIGTERM (the simulator flushes its state), then SIGKILL after 10 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    # --- control API ---------------------------------------------------------------------

    def request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with _opener.open(request, timeout=30) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")
            raise SimError(f"{method} {path} -> {error.code}: {detail}") from None

    def state(self) -> dict[str, Any]:
        return self.request("GET", "/_sim/state")

    def instance(self, instance_id: str) -> dict[str, Any]:
        return self.request("GET", f"/_sim/state/instances/{instance_id}")

    def clock(self) -> dict[str, Any]:
        return self.request("GET", "/_sim/clock")

    def advance(self, seconds: float) -> dict[str, Any]:
        return self.request("POST", "/_sim/clock", {"advance": seconds})

    def set_speed(self, speed: float) -> dict[str, Any]:
        return self.request("POST", "/_sim/clock", {"speed": speed})

    def set_faults(self, **rule: Any) -> None:
        self.request("POST", "/_sim/faults", rule)

    def clear_faults(self) -> None:
        self.request("DELETE", "/_sim/faults")

    def set_stock(self, zone_id: str, instance_type: str, available: int) -> None:
        self.request(
            "POST",
            "/_sim/stock",
            {"zone_id": zone_id, "instance_type": instance_type, "available": available},
        )

    def load(self, instance_id: str, gpu: float, seconds: float) -> None:
        self.request(
            "POST", "/_sim/load", {"instance_id": instance_id, "gpu": gpu, "seconds": seconds}
        )

    def calls(self) -> dict[str, int]:
        return self.request("GET", "/_sim/calls")

    def reset_calls(self) -> None:
        self.request("POST", "/_sim/calls/reset")

    def reset(self) -> None:
        self.request("POST", "/_sim/reset")

    def add_ram_user(self, access_key_id: str, access_key_secret: str, policies: list[str]) -> None:
        """An access key that may call only what the system ``policies`` allow."""
        self.request(
            "POST",
            "/_sim/ram/users",
            {
                "access_key_id": access_key_id,
                "access_key_secret": access_key_secret,
                "policies": policies,
            },
        )

    def set_account(self, **fields: Any) -> dict[str, Any]:
        """The account's ``vcpu_quota`` and ``available_amount`` (see ``/_sim/account``)."""
        return self.request("POST", "/_sim/account", fields)

    def reset_account(self) -> None:
        """The account's default quota and balance."""
        from cloudsim.account import DEFAULT_BALANCE, DEFAULT_VCPU_QUOTA

        self.set_account(vcpu_quota=DEFAULT_VCPU_QUOTA, available_amount=float(DEFAULT_BALANCE))

    def webui_url(self, instance_id: str) -> str:
        return f"{self.base_url}/hosts/{instance_id}"


def start_sim(
    data_dir: Path,
    *,
    speed: float = 1.0,
    port: int = 0,
    access_keys: dict[str, str] | None = None,
    command_prefix: Sequence[str] = (),
) -> RunningSim:
    """Starts ``python -m cloudsim`` and waits for its ``listening`` line.

    The first access key pair is the one ``RunningSim`` reports (default ``nestops-sim``).
    ``command_prefix`` wraps the command, e.g. ``("taskset", "-c", "0")`` for a benchmark.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    keys = access_keys or {DEFAULT_ACCESS_KEY_ID: DEFAULT_ACCESS_KEY_SECRET}
    command = [
        *command_prefix,
        sys.executable,
        "-m",
        "cloudsim",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--speed",
        repr(float(speed)),
    ]
    for key_id, secret in keys.items():
        command += ["--access-key", f"{key_id}:{secret}"]
    environment = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    environment.setdefault("PYTHONUNBUFFERED", "1")
    # cloudsim must be importable from the child even when the caller runs from elsewhere.
    package_root = str(Path(__file__).resolve().parent.parent)
    environment["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_root, environment.get("PYTHONPATH", "")) if p
    )
    log_path = data_dir / "cloudsim.log"
    log = log_path.open("ab")
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=log,
        stdin=subprocess.DEVNULL,
        env=environment,
        text=True,
    )
    log.close()
    line = _first_line(process, STARTUP_TIMEOUT)
    prefix = "cloudsim listening on http://"
    if not line.startswith(prefix):
        if process.poll() is None:
            process.kill()
            process.wait()
        stderr = log_path.read_text(errors="replace")[-4000:]
        raise SimError(
            f"cloudsim did not start within {STARTUP_TIMEOUT:g} s (exit status "
            f"{process.returncode}); stdout: {line!r}; stderr:\n{stderr}"
        )
    bound_port = int(line.strip().rsplit(":", 1)[1])
    key_id, secret = next(iter(keys.items()))
    return RunningSim(process, bound_port, data_dir, key_id, secret, log_path)


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    found: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        found.append(process.stdout.readline())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while reader.is_alive() and time.monotonic() < deadline:
        reader.join(0.05)
    return found[0] if found else ""
