"""`make run`'s supervisor: a process that dies is named and started again; the rest go on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def wait_for_lines(log: Path, text: str, count: int) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        content = log.read_text()
        if content.count(text) >= count:
            return content
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not seen {count} times in:\n{log.read_text()}")


def test_a_crashing_process_is_restarted_and_the_others_keep_running(tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    steady_pid = tmp_path / "steady.pid"
    procfile.write_text(
        f"steady: echo $$ > {steady_pid}; exec sleep 60\ncrasher: echo crashing now; exit 3\n"
    )
    log = tmp_path / "supervise.log"
    with log.open("wb") as output:
        supervisor = subprocess.Popen(
            [
                *(sys.executable, str(ROOT / "scripts" / "supervise.py"), "-f", str(procfile)),
                *("--min-backoff", "0.05", "--max-backoff", "0.2"),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        content = wait_for_lines(log, "crashing now", 3)
        assert "crasher died (exit status 3)" in content
        assert "the other processes keep running" in content
        assert content.count("steady") and content.count("started with pid") >= 4
        pid = int(steady_pid.read_text())
        os.kill(pid, 0)  # the steady process was never restarted and still runs
        assert content.count("steady  | started") == 1
    finally:
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=20) == 0
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass
    else:
        raise AssertionError("the steady process outlived the supervisor")


def test_it_refuses_a_name_that_is_not_in_the_procfile(tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text("web: sleep 1\n")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "supervise.py"), "-f", str(procfile), "worker"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "not in" in result.stderr and "worker" in result.stderr
