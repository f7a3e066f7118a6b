"""Runs the Procfile's processes for `make run` and restarts one that dies.

honcho stops the whole stack when one process exits; here a crashed process is named with its
exit status and started again after a pause (1 s, doubling up to 30 s while it keeps crashing
within a minute of starting), and the others go on. Ctrl-C or SIGTERM stops everything: each
process group gets SIGTERM, then SIGKILL after a grace period.

    python scripts/supervise.py [-f Procfile] [--min-backoff S] [--max-backoff S] [NAME ...]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

STABLE_SECONDS = 60.0  # a process that ran this long before dying starts again at once
GRACE_SECONDS = 10.0
COLOURS = ("36", "33", "32", "35", "34", "31")


@dataclass
class Child:
    name: str
    command: str
    colour: str
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    backoff: float = 0.0
    restart_at: float | None = None
    starts: int = 0
    readers: list[threading.Thread] = field(default_factory=list)


def read_procfile(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, separator, command = line.partition(":")
        if not separator or not name.strip() or not command.strip():
            raise SystemExit(f"supervise: {path}: cannot read the line {line!r}")
        found[name.strip()] = command.strip()
    return found


class Supervisor:
    def __init__(self, children: list[Child], min_backoff: float, max_backoff: float) -> None:
        self.children = children
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.stopping = threading.Event()
        self.width = max(len(c.name) for c in children)
        self.output = threading.Lock()
        self.colours = sys.stdout.isatty()

    def say(self, name: str, colour: str, text: str) -> None:
        prefix = f"{time.strftime('%H:%M:%S')} {name:<{self.width}} |"
        if self.colours:
            prefix = f"\x1b[{colour}m{prefix}\x1b[0m"
        with self.output:
            sys.stdout.write(f"{prefix} {text}\n")
            sys.stdout.flush()

    def start(self, child: Child) -> None:
        # The shell expands ${NESTOPS_PORT:-8000} and friends; signals go to the whole group.
        child.process = subprocess.Popen(
            ["/bin/sh", "-c", child.command],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        child.starts += 1
        self.say(child.name, child.colour, f"started with pid {child.process.pid}")
        reader = threading.Thread(target=self._relay, args=(child, child.process), daemon=True)
        reader.start()
        child.readers.append(reader)

    def _relay(self, child: Child, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            self.say(child.name, child.colour, raw.decode("utf-8", "replace").rstrip("\n"))

    def check(self, child: Child) -> None:
        """Notices a death and schedules the restart; starts it when its pause is over."""
        now = time.monotonic()
        if child.restart_at is not None:
            if now >= child.restart_at:
                self.start(child)
            return
        assert child.process is not None
        status = child.process.poll()
        if status is None:
            return
        ran = now - child.started_at
        if ran >= STABLE_SECONDS:
            child.backoff = self.min_backoff
        else:
            child.backoff = min(self.max_backoff, max(self.min_backoff, child.backoff * 2))
        child.restart_at = now + child.backoff
        self.say(
            child.name,
            "1;31",
            f"{child.name} died ({_how(status)}) after {ran:.0f} s; "
            f"restarting it in {child.backoff:g} s, the other processes keep running",
        )

    def run(self) -> int:
        for child in self.children:
            self.start(child)
        while not self.stopping.wait(0.2):
            for child in self.children:
                self.check(child)
        return self.stop_all()

    def stop_all(self) -> int:
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        for process in running:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        for child in self.children:
            for reader in child.readers:
                reader.join(timeout=1)
        return 0


def _how(status: int) -> str:
    if status < 0:
        return f"killed by signal {-status}"
    return f"exit status {status}"


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-f", "--procfile", default="Procfile", type=Path)
    parser.add_argument("--min-backoff", type=float, default=1.0)
    parser.add_argument("--max-backoff", type=float, default=30.0)
    parser.add_argument("names", nargs="*", help="processes to run (default: all)")
    options = parser.parse_args(argv)
    commands = read_procfile(options.procfile)
    names = options.names or list(commands)
    if unknown := [n for n in names if n not in commands]:
        parser.error(f"not in {options.procfile}: {', '.join(unknown)}")
    children = [
        Child(name, commands[name], COLOURS[index % len(COLOURS)])
        for index, name in enumerate(names)
    ]
    supervisor = Supervisor(children, options.min_backoff, options.max_backoff)

    def request_stop(signum: int, frame: object) -> None:
        supervisor.stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
