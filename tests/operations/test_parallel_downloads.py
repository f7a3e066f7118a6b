"""download_model.sh takes a large file in parallel byte ranges (each resumable), keeping the
checksum, the free-space check and the address policy; small files and servers without
ranges keep the single connection. The script runs with bash against a local file server."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import time
from pathlib import Path

import pytest

from operations import scripts
from tests.fileserver import serve
from tests.operations.test_host_scripts import (
    ACCOUNT,
    WEBUI,
    download_arguments,
    run,
    script_env,
)

MIB = 1024 * 1024


@pytest.fixture
def host(tmp_path: Path) -> Path:
    root = tmp_path / "host"
    (root / WEBUI / "models/Lora").mkdir(parents=True)
    return root


@pytest.fixture
def files(tmp_path: Path):
    with serve(tmp_path / "served") as server:
        yield server


def _ranges(files, name: str) -> list[str]:
    return sorted(
        r.headers.get("Range", "")
        for r in files.requests
        if r.method == "GET" and r.path == f"/{name}"
    )


def test_a_large_file_comes_in_parallel_ranges_and_keeps_its_checksum(host, files) -> None:
    data = os.urandom(24 * MIB)
    url = files.add("big.safetensors", data)
    digest = hashlib.sha256(data).hexdigest()
    result = run(
        host,
        "download_model",
        **download_arguments(URL=url, FILENAME="big.safetensors", SHA256=digest),
    )
    assert result.returncode == 0, result.stderr
    assert "in 3 byte ranges at once" in result.stdout
    saved = host / WEBUI / "models/Lora/big.safetensors"
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == digest
    assert _ranges(files, "big.safetensors") == [
        f"bytes=0-{8 * MIB - 1}",
        f"bytes={16 * MIB}-{24 * MIB - 1}",
        f"bytes={8 * MIB}-{16 * MIB - 1}",
    ]
    assert not list((host / WEBUI / "models/Lora").glob(".*"))


def test_one_connection_or_a_small_file_is_one_request(host, files) -> None:
    url = files.add("one.safetensors", os.urandom(24 * MIB))
    small = files.add("small.safetensors", os.urandom(MIB))
    for name, address, connections in (("one", url, 1), ("small", small, 16)):
        result = run(
            host,
            "download_model",
            **download_arguments(
                URL=address, FILENAME=f"{name}.safetensors", CONNECTIONS=connections
            ),
        )
        assert result.returncode == 0, result.stderr
        assert _ranges(files, f"{name}.safetensors") == [""]


def test_a_segment_resumes_where_it_stopped(host, files) -> None:
    data = os.urandom(16 * MIB)
    url = files.add("resumed.safetensors", data)
    lora = host / WEBUI / "models/Lora"
    part = lora / ".resumed.safetensors.nestops-part"
    (lora / f"{part.name}.source").write_text(hashlib.sha256(url.encode()).hexdigest() + "\n")
    # Three MiB of the first range are in place; its progress file says so.
    part.write_bytes(data[: 3 * MIB])
    (lora / f"{part.name}.seg.2-0").write_text(f"{3 * MIB}\n")
    result = run(
        host, "download_model", **download_arguments(URL=url, FILENAME="resumed.safetensors")
    )
    assert result.returncode == 0, result.stderr
    assert (lora / "resumed.safetensors").read_bytes() == data
    assert _ranges(files, "resumed.safetensors") == [
        f"bytes={3 * MIB}-{8 * MIB - 1}",
        f"bytes={8 * MIB}-{16 * MIB - 1}",
    ]


def test_a_wrong_checksum_keeps_nothing_after_a_parallel_download(host, files) -> None:
    url = files.add("wrong.safetensors", os.urandom(16 * MIB))
    result = run(
        host,
        "download_model",
        **download_arguments(URL=url, FILENAME="wrong.safetensors", SHA256="0" * 64),
    )
    assert result.returncode == 2 and "SHA-256" in result.stderr
    assert not list((host / WEBUI / "models/Lora").iterdir())


def test_a_bad_connection_count_is_refused(host, files) -> None:
    result = run(host, "download_model", **download_arguments(CONNECTIONS="99"))
    assert result.returncode == 2 and "CONNECTIONS" in result.stderr


def test_a_script_too_long_for_oos_as_text_travels_compressed_and_still_runs(host, files) -> None:
    from cloud.oos import MAX_SCRIPT_CHARS
    from operations import scripts
    from tests.operations.test_host_scripts import ACCOUNT

    data = os.urandom(MIB)
    url = files.add("long.safetensors", data) + "?signature=" + "s" * 1900
    arguments = download_arguments(URL=url, FILENAME="long.safetensors", TOKEN="t" * 512)
    rendered = scripts.render("download_model", {**ACCOUNT, **arguments})
    assert len(rendered) < MAX_SCRIPT_CHARS
    assert "| base64 -d | gzip -dc)" in rendered
    assert "export NESTOPS_ARG_URL=" in rendered
    result = run(host, "download_model", **arguments)
    assert result.returncode == 0, result.stderr
    assert (host / WEBUI / "models/Lora/long.safetensors").read_bytes() == data


def test_ranges_under_way_report_their_progress_timed_by_the_host(host, files) -> None:
    data = os.urandom(16 * MIB)
    url = files.add("watched.safetensors", data)
    files.slow["watched.safetensors"] = 3 * MIB  # two ranges, about three seconds
    script = scripts.render(
        "download_model",
        {**ACCOUNT, **download_arguments(URL=url, FILENAME="watched.safetensors")},
    )
    progress_file = host / WEBUI / "models/Lora/.watched.safetensors.nestops-part.progress"
    samples = []
    with subprocess.Popen(["bash", "-c", script], env=script_env(host), text=True) as process:
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                samples.append(progress_file.read_text().split())
            time.sleep(0.1)
        assert process.wait(timeout=5) == 0
    downloading = [s for s in samples if len(s) == 4 and s[0] == "downloading"]
    under_way = [int(s[1]) for s in downloading if 0 < int(s[1]) < 16 * MIB]
    assert under_way, samples
    assert all(s[2] == str(16 * MIB) for s in downloading)
    stamps = [int(s[3]) for s in downloading]
    assert stamps == sorted(stamps) and stamps[-1] > stamps[0]
    assert (host / WEBUI / "models/Lora/watched.safetensors").read_bytes() == data
    assert not progress_file.exists()
