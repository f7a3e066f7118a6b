"""Parallel ranged downloads against a server that limits each connection.

A 500 MB file (BENCH_PARALLEL_MB) is served on 127.0.0.1 at 10 MiB/s per connection (the
per-connection limit model sites and their CDNs apply). download_model.sh runs with bash
against a host folder, as cloudsim runs it, once with CONNECTIONS=1 and once with 16. Figures:

- ``one_connection_seconds`` / ``sixteen_connections_seconds``: the script's wall time (HEAD,
  free-space check, transfer, joining the segments, SHA-256, move);
- ``speedup``: the first over the second;
- ``*_overhead_seconds``: wall time beyond the transfer at the limit (size / (connections x
  10 MiB/s)): the script's own work.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from harness import ROOT, report, setup_django, workdir

MEGABYTES = int(os.environ.get("BENCH_PARALLEL_MB", "500"))
RATE = 10 * 2**20  # bytes per second and connection


def run_script(host: Path, url: str, name: str, connections: int, digest: str) -> float:
    from operations import scripts

    arguments = {
        "MODE": "download",
        "URL": url,
        "FOLDER": "models/Stable-diffusion",
        "FILENAME": name,
        "SHA256": digest,
        "OVERWRITE": 1,
        "MAX_BYTES": 10**10,
        "RESERVE_BYTES": 0,
        "EXTENSIONS": ".safetensors",
        "TOKEN": "",
        "ALLOW_PRIVATE": 1,
        "WEBUI_USER": "admin",
        "WEBUI_PASSWORD": "bench",
        "PORT": 9,
        "CONNECTIONS": connections,
    }
    started = time.perf_counter()
    result = subprocess.run(
        ["bash", "-c", scripts.render("download_model", arguments)],
        env={
            "NESTOPS_HOST_ROOT": str(host),
            "NESTOPS_WEBUI_URL": "http://127.0.0.1:9",
            "PATH": os.environ["PATH"],
            "HOME": str(host / "root"),
        },
        capture_output=True,
        text=True,
        timeout=1800,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"download failed: {result.stderr}")
    return elapsed


def main() -> None:
    folder = workdir("parallel-downloads")
    setup_django(folder)
    sys.path.insert(0, str(ROOT))
    from tests.fileserver import serve

    host = folder / "host"
    (host / "root/stable-diffusion-webui/models/Stable-diffusion").mkdir(parents=True)
    block = os.urandom(2**20)
    size = MEGABYTES * 10**6
    served = folder / "served"
    served.mkdir()
    digest = hashlib.sha256()
    with (served / "big.safetensors").open("wb") as handle:
        left = size
        while left:
            chunk = block[: min(left, len(block))]
            handle.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    with serve(served) as files:
        files.slow["big.safetensors"] = RATE
        url = files.url("big.safetensors")
        sixteen = run_script(host, url, "sixteen.safetensors", 16, digest.hexdigest())
        one = run_script(host, url, "one.safetensors", 1, digest.hexdigest())
    report(
        "bench_parallel_downloads",
        {
            "megabytes": MEGABYTES,
            "rate_mib_per_s_per_connection": RATE / 2**20,
            "one_connection_seconds": one,
            "sixteen_connections_seconds": sixteen,
            "speedup": one / sixteen,
            "one_connection_overhead_seconds": one - size / RATE,
            "sixteen_connections_overhead_seconds": sixteen - size / (16 * RATE),
        },
    )


if __name__ == "__main__":
    main()
