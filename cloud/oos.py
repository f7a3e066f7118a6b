"""OOS 2019-06-01: shell scripts on hosts through the public ACS-ECS-BulkyRunCommand template."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cloud.clients import OOS, call, request_model
from cloud.types import cloud_time

RUN_COMMAND_TEMPLATE = "ACS-ECS-BulkyRunCommand"
MAX_SCRIPT_CHARS = 16384
RUNNING_STATUSES = ("Started", "Queued", "Running", "Waiting")
FINISHED_STATUSES = ("Success", "Failed", "Cancelled")


@dataclass(frozen=True)
class CommandOutput:
    """What one host's run of the script printed and how it exited."""

    instance_id: str
    output: str
    exit_code: int | None
    status: str


@dataclass(frozen=True)
class Execution:
    execution_id: str
    status: str
    status_message: str
    outputs: list[CommandOutput]
    request_id: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.status == "Success"


def _outputs(raw: Any) -> list[CommandOutput]:
    # Outputs arrive as a JSON string (ListExecutions) or an object (StartExecution).
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            return []
    if not isinstance(raw, dict):
        return []
    found = []
    for entry in raw.get("commandOutputs") or []:
        if not isinstance(entry, dict):
            continue
        code = entry.get("exitCode")
        found.append(
            CommandOutput(
                instance_id=str(entry.get("instanceId") or ""),
                output=str(entry.get("invocationOutput") or ""),
                exit_code=int(code)
                if isinstance(code, int | str) and str(code).lstrip("-").isdigit()
                else None,
                status=str(entry.get("invocationStatus") or ""),
            )
        )
    return found


def _execution(raw: dict[str, Any], request_id: str | None) -> Execution:
    return Execution(
        execution_id=raw["ExecutionId"],
        status=raw.get("Status") or "",
        status_message=raw.get("StatusMessage") or "",
        outputs=_outputs(raw.get("Outputs")),
        request_id=request_id,
    )


def start_run_command(
    region: str,
    instance_ids: Sequence[str],
    script: str,
    *,
    client_token: str,
    working_dir: str = "/root",
    timeout_seconds: int = 600,
    tags: dict[str, str] | None = None,
) -> Execution:
    """Runs a shell script on hosts; the script must hold user values only as quoted data."""
    if len(script) > MAX_SCRIPT_CHARS:
        raise ValueError(f"the script has {len(script)} characters; OOS takes {MAX_SCRIPT_CHARS}")
    parameters = {
        "regionId": region,
        "resourceType": "ALIYUN::ECS::Instance",
        "targets": {"Type": "ResourceIds", "ResourceIds": list(instance_ids), "RegionId": region},
        "commandType": "RunShellScript",
        "commandContent": script,
        "workingDir": working_dir,
        "timeout": timeout_seconds,
    }
    request = request_model(
        OOS,
        "StartExecutionRequest",
        region_id=region,
        template_name=RUN_COMMAND_TEMPLATE,
        parameters=json.dumps(parameters),
        mode="Automatic",
        client_token=client_token,
        tags=dict(tags) if tags else None,
    )
    data = call(OOS, region, "StartExecution", request)
    return _execution(data["Execution"], data.get("RequestId"))


def get_execution(region: str, execution_id: str) -> Execution | None:
    request = request_model(
        OOS, "ListExecutionsRequest", region_id=region, execution_id=execution_id
    )
    data = call(OOS, region, "ListExecutions", request)
    for raw in data.get("Executions") or []:
        if raw.get("ExecutionId") == execution_id:
            return _execution(raw, data.get("RequestId"))
    return None


@dataclass(frozen=True)
class TaskExecution:
    task_execution_id: str
    task_name: str
    status: str
    status_message: str
    outputs: str
    started: Any
    ended: Any


def list_task_executions(region: str, execution_id: str) -> list[TaskExecution]:
    request = request_model(
        OOS, "ListTaskExecutionsRequest", region_id=region, execution_id=execution_id
    )
    data = call(OOS, region, "ListTaskExecutions", request)
    return [
        TaskExecution(
            task_execution_id=raw.get("TaskExecutionId") or "",
            task_name=raw.get("TaskName") or "",
            status=raw.get("Status") or "",
            status_message=raw.get("StatusMessage") or "",
            outputs=raw.get("Outputs") if isinstance(raw.get("Outputs"), str) else "",
            started=cloud_time(raw.get("StartDate")),
            ended=cloud_time(raw.get("EndDate")),
        )
        for raw in data.get("TaskExecutions") or []
    ]


def cancel_execution(region: str, execution_id: str) -> str:
    request = request_model(
        OOS, "CancelExecutionRequest", region_id=region, execution_id=execution_id
    )
    return str(call(OOS, region, "CancelExecution", request).get("RequestId") or "")
