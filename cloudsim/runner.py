"""Runs OOS RunShellScript commands for real, with bash, inside host sandboxes.

One thread per target host. The script is written to ``<sandbox>/.sim/scripts/<exec>.sh`` and
run in its own process group with ``cwd`` = the working directory mapped into the sandbox and
the host's environment (``NESTOPS_HOST_ROOT``, ``NESTOPS_WEBUI_URL``, ``HOME``, ``PATH`` with the
shims first). Output goes to a file rather than a pipe so that a background child keeping the
descriptor open cannot block us. Timeouts (real seconds) and cancellation kill the whole group;
processes a finished script left behind are killed too, so nothing leaks past a command.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from cloudsim.sandbox import PRIVATE_FILE, SandboxPathError, host_path, make_private
from cloudsim.state import Execution

if TYPE_CHECKING:
    from cloudsim.simulator import Simulator

OUTPUT_TAIL_BYTES = 24 * 1024
FINISHED = ("Success", "Failed", "Timeout", "Cancelled")
RESTARTED_MESSAGE = "The simulator restarted while this execution was running."


class ScriptRunner:
    """Starts, watches, times out and cancels the scripts of OOS executions."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._processes: dict[tuple[str, str], subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._stopping = False

    # --- starting ------------------------------------------------------------------------

    def start(self, execution_id: str) -> None:
        execution = self.sim.state.executions[execution_id]
        for target in execution.targets:
            thread = threading.Thread(
                target=self._run_target,
                args=(execution_id, target["instanceId"]),
                name=f"oos-{execution_id}-{target['instanceId']}",
                daemon=True,
            )
            thread.start()

    def _run_target(self, execution_id: str, instance_id: str) -> None:
        try:
            self._run_target_unsafe(execution_id, instance_id)
        except Exception as error:  # the thread must always record an outcome
            print(f"cloudsim: script runner failed: {error!r}", file=sys.stderr)
            self._finish(execution_id, instance_id, "Failed", -1, "", f"cloudsim error: {error}")

    def _run_target_unsafe(self, execution_id: str, instance_id: str) -> None:
        sim = self.sim
        with sim.state.lock:
            execution = sim.state.executions.get(execution_id)
            if execution is None:
                return  # the simulator was reset
            if execution.status == "Cancelled":
                self._finish(execution_id, instance_id, "Cancelled", -1, "", "Cancelled.")
                return
            instance = sim.state.instances.get(instance_id)
            parameters = execution.parameters
            if instance is None or instance.region_id != execution.region_id:
                message = f"Instance {instance_id} was not found in {execution.region_id}."
                self._finish(execution_id, instance_id, "Failed", -1, "", message)
                return
            status = instance.status_at(sim.clock.now())
            if status != "Running":
                message = (
                    f"Instance {instance_id} is not Running ({status}): Cloud Assistant "
                    "cannot run commands on it."
                )
                self._finish(execution_id, instance_id, "Failed", -1, "", message)
                return
        sandbox = sim.sandboxes.path(instance_id)
        try:
            workdir = host_path(sandbox, str(parameters.get("workingDir") or "/root"))
        except SandboxPathError as error:
            self._finish(execution_id, instance_id, "Failed", -1, "", f"workingDir: {error}")
            return
        scripts = sandbox / ".sim" / "scripts"
        try:
            # Not parents=True for the sandbox itself: a host deleted meanwhile stays deleted.
            scripts.mkdir(exist_ok=True)
            workdir.mkdir(parents=True, exist_ok=True)
        except FileNotFoundError:
            message = f"Instance {instance_id} was deleted before the command could run."
            self._finish(execution_id, instance_id, "Failed", -1, "", message)
            return
        script = scripts / f"{execution_id}.sh"
        script.write_text(str(parameters["commandContent"]), encoding="utf-8")
        make_private(script, PRIVATE_FILE)
        log_path = scripts / f"{execution_id}.log"
        timeout = float(parameters.get("timeout") or 600)
        with log_path.open("wb") as log:
            make_private(log_path, PRIVATE_FILE)
            process = subprocess.Popen(
                ["bash", str(script)],
                cwd=workdir,
                env=self._environment(sandbox, instance_id),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with self._lock:
            self._processes[(execution_id, instance_id)] = process
        if self._cancelled(execution_id):
            _kill_group(process)
        outcome = "Success"
        try:
            exit_code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            exit_code = process.wait()
            outcome = "Timeout"
        _kill_group(process)  # whatever the script left running in its group
        with self._lock:
            self._processes.pop((execution_id, instance_id), None)
        output = _tail(log_path)
        if self._cancelled(execution_id):
            outcome = "Cancelled"
        if outcome == "Success" and exit_code != 0:
            outcome = "Failed"
        if outcome == "Timeout":
            message = f"The command timed out after {timeout:g} s on {instance_id} and was killed."
        elif outcome == "Failed":
            message = f"The command exited with code {exit_code} on {instance_id}."
        elif outcome == "Cancelled":
            message = "The execution was cancelled; the command was killed."
        else:
            message = ""
        self._finish(execution_id, instance_id, outcome, exit_code, output, message)

    def _cancelled(self, execution_id: str) -> bool:
        with self.sim.state.lock:
            execution = self.sim.state.executions.get(execution_id)
            return execution is None or execution.status == "Cancelled"

    def _environment(self, sandbox: Path, instance_id: str) -> dict[str, str]:
        # A clean environment: the host's, not the simulator's (no proxies, no secrets).
        system_path = os.environ.get("PATH") or "/usr/local/bin:/usr/bin:/bin"
        return {
            "NESTOPS_HOST_ROOT": str(sandbox),
            "NESTOPS_WEBUI_URL": self.sim.webui_url(instance_id),
            "NESTOPS_WEBUI_TLS_PORT": str(self.sim.webui_tls_port(instance_id)),
            "HOME": str(sandbox / "root"),
            "PATH": f"{sandbox / '.sim' / 'bin'}:{system_path}",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "USER": "root",
            "LOGNAME": "root",
            "SHELL": "/bin/bash",
            "TMPDIR": str(sandbox / "tmp"),
        }

    # --- finishing -----------------------------------------------------------------------

    def _finish(
        self,
        execution_id: str,
        instance_id: str,
        outcome: str,
        exit_code: int,
        output: str,
        message: str,
    ) -> None:
        if self._stopping:
            return  # left Running on purpose: the next start marks it failed by the restart
        sim = self.sim
        with sim.state.lock:
            execution = sim.state.executions.get(execution_id)
            if execution is None:
                return
            now = sim.clock.now()
            for target in execution.targets:
                if target["instanceId"] == instance_id and target["status"] not in FINISHED:
                    target.update(
                        status=outcome,
                        exitCode=exit_code,
                        output=output,
                        message=message,
                        endedAt=now,
                    )
            if all(t["status"] in FINISHED for t in execution.targets):
                _conclude(execution, now)
            sim.state.touch()

    # --- stopping ------------------------------------------------------------------------

    def cancel(self, execution_id: str) -> None:
        """Kills the execution's scripts and records every unfinished target as Cancelled at
        once, so that a Cancelled execution always carries its outputs."""
        with self._lock:
            victims = {i: p for (e, i), p in self._processes.items() if e == execution_id}
        for process in victims.values():
            _kill_group(process)
        with self.sim.state.lock:
            execution = self.sim.state.executions.get(execution_id)
            if execution is None:
                return
            now = self.sim.clock.now()
            for target in execution.targets:
                if target["status"] in FINISHED:
                    continue
                instance_id = target["instanceId"]
                log = self.sim.sandboxes.path(instance_id) / ".sim" / "scripts"
                started = instance_id in victims
                target.update(
                    status="Cancelled",
                    exitCode=-signal.SIGKILL if started else -1,
                    output=_tail(log / f"{execution_id}.log") if started else "",
                    message="The execution was cancelled; the command was killed.",
                    endedAt=now,
                )
            _conclude(execution, now)
            self.sim.state.touch()

    def forget_host(self, instance_id: str) -> None:
        """The host is gone: its running scripts die with it."""
        with self._lock:
            victims = [p for (_, i), p in self._processes.items() if i == instance_id]
        for process in victims:
            _kill_group(process)

    def kill_all(self) -> None:
        with self._lock:
            victims = list(self._processes.values())
        for process in victims:
            _kill_group(process)

    def shutdown(self) -> None:
        self._stopping = True
        self.kill_all()


def _conclude(execution: Execution, now: float) -> None:
    if execution.status == "Cancelled":
        execution.ended_at = execution.ended_at or now
        return
    failed = [t for t in execution.targets if t["status"] != "Success"]
    execution.ended_at = now
    if not failed:
        execution.status = "Success"
        execution.status_message = ""
    else:
        execution.status = "Failed"
        execution.status_message = failed[0]["message"] or f"{failed[0]['status']}"


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - OUTPUT_TAIL_BYTES))
            data = handle.read()
    except OSError:
        return ""
    return data.decode("utf-8", errors="replace")
