"""OOS 2019-06-01: the public template ACS-ECS-BulkyRunCommand, run for real by ``runner``.

Executions run in real time (their timeout is real seconds); their dates are sim time like
everything else the control plane sees. Outputs are ``{"commandOutputs": [...]}`` with one
entry per host: the last 24 KB of stdout+stderr, the exit code and the invocation status.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from cloudsim import ids
from cloudsim.api import Call, action
from cloudsim.clock import iso_seconds
from cloudsim.errors import CloudError, invalid
from cloudsim.paging import page_by_offset_token
from cloudsim.runner import FINISHED, RESTARTED_MESSAGE
from cloudsim.state import Execution, State

if TYPE_CHECKING:
    from cloudsim.simulator import Simulator

TEMPLATE = "ACS-ECS-BulkyRunCommand"
MAX_COMMAND_CHARS = 16384
MAX_TARGETS = 100
EXECUTION_STATUSES = ("Started", "Queued", "Running", "Waiting", "Success", "Failed", "Cancelled")


def _template_parameters(call: Call) -> dict[str, Any]:
    """Validates the template's Parameters and fills in its defaults."""
    raw = call.params.json("Parameters", required=True)
    if not isinstance(raw, dict):
        raise invalid("Parameters", "It must be a JSON object.")
    region_id = raw.get("regionId") or call.params.text("RegionId") or "cn-hangzhou"
    resource_type = raw.get("resourceType", "ALIYUN::ECS::Instance")
    if resource_type != "ALIYUN::ECS::Instance":
        raise invalid("Parameters.resourceType", "Only ALIYUN::ECS::Instance is supported.")
    targets = raw.get("targets")
    if not isinstance(targets, dict) or targets.get("Type") != "ResourceIds":
        raise invalid(
            "Parameters.targets",
            'Use {"Type": "ResourceIds", "ResourceIds": ["i-..."], "RegionId": "..."}.',
        )
    resource_ids = targets.get("ResourceIds")
    if (
        not isinstance(resource_ids, list)
        or not resource_ids
        or not all(isinstance(i, str) and i for i in resource_ids)
    ):
        raise invalid("Parameters.targets.ResourceIds", "It must list instance ids.")
    if len(resource_ids) > MAX_TARGETS:
        raise invalid("Parameters.targets.ResourceIds", f"At most {MAX_TARGETS} instances.")
    if raw.get("commandType", "RunShellScript") != "RunShellScript":
        raise invalid("Parameters.commandType", "cloudsim runs RunShellScript commands only.")
    content = raw.get("commandContent")
    if not isinstance(content, str) or not content:
        raise CloudError(
            "MissingParameter",
            'The input parameter "Parameters.commandContent" that is mandatory for processing '
            "this request is not supplied.",
        )
    if len(content) > MAX_COMMAND_CHARS:
        raise invalid(
            "Parameters.commandContent", f"It must be at most {MAX_COMMAND_CHARS} characters."
        )
    working_dir = raw.get("workingDir") or "/root"
    if not isinstance(working_dir, str) or not working_dir.startswith("/"):
        raise invalid("Parameters.workingDir", "It must be an absolute path.")
    timeout = raw.get("timeout", 600)
    if isinstance(timeout, str) and timeout.isdigit():
        timeout = int(timeout)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 86400:
        raise invalid("Parameters.timeout", "It must be an integer from 1 to 86400 seconds.")
    return {
        **raw,
        "regionId": region_id,
        "resourceType": resource_type,
        "targets": {**targets, "RegionId": targets.get("RegionId") or region_id},
        "commandType": "RunShellScript",
        "commandContent": content,
        "workingDir": working_dir,
        "timeout": timeout,
        "username": raw.get("username") or "root",
    }


def _tags(call: Call) -> dict[str, Any]:
    tags = call.params.json("Tags")
    if tags is None:
        return {}
    if not isinstance(tags, dict):
        raise invalid("Tags", "It must be a JSON object of tag keys to values.")
    return tags


def _outputs(execution: Execution) -> str:
    finished = [t for t in execution.targets if t["status"] in FINISHED]
    if not finished:
        return "{}"
    return json.dumps(
        {
            "commandOutputs": [
                {
                    "instanceId": t["instanceId"],
                    "invocationOutput": t["output"],
                    "exitCode": t["exitCode"],
                    "invocationStatus": t["status"],
                }
                for t in finished
            ]
        },
        ensure_ascii=False,
    )


def _counters(execution: Execution) -> dict[str, int]:
    counters = {"Total": len(execution.targets)}
    for target in execution.targets:
        counters[target["status"]] = counters.get(target["status"], 0) + 1
    return counters


def execution_view(execution: Execution, *, parameters_as_text: bool) -> dict[str, Any]:
    """StartExecution shows Parameters as a JSON string, ListExecutions as an object."""
    ended = iso_seconds(execution.ended_at) if execution.ended_at is not None else ""
    updated = execution.ended_at if execution.ended_at is not None else execution.created_at
    return {
        "ExecutionId": execution.execution_id,
        "TemplateName": execution.template_name,
        "TemplateId": "t-sim-bulkyruncommand",
        "TemplateVersion": "v1",
        "Mode": execution.mode,
        "LoopMode": "Automatic",
        "Status": execution.status,
        "StatusMessage": execution.status_message,
        "Parameters": (
            json.dumps(execution.parameters, ensure_ascii=False)
            if parameters_as_text
            else execution.parameters
        ),
        "Outputs": _outputs(execution),
        "Tags": execution.tags,
        "Counters": _counters(execution),
        "CreateDate": iso_seconds(execution.created_at),
        "StartDate": iso_seconds(execution.created_at),
        "UpdateDate": iso_seconds(updated),
        "EndDate": ended,
        "ExecutedBy": "nestops-sim",
        "IsParent": False,
        "ParentExecutionId": "",
        "RamRole": "",
        "ResourceGroupId": "",
        "SafetyCheck": "Skip",
        "Description": "",
        "Category": "Other",
        "Targets": json.dumps(execution.parameters.get("targets", {})),
        "CurrentTasks": [
            {
                "TaskExecutionId": t["taskExecutionId"],
                "TaskName": "runCommand",
                "TaskAction": "ACS::ECS::RunCommand",
            }
            for t in execution.targets
            if t["status"] not in FINISHED
        ],
    }


@action("Oos", "StartExecution", client_token=True)
def start_execution(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    template = params.required("TemplateName")
    if template != TEMPLATE:
        raise CloudError(
            "EntityNotExists.Template",
            f"The template {template} does not exist; cloudsim offers {TEMPLATE}.",
            404,
        )
    mode = params.text("Mode", default="Automatic", choices=("Automatic",)) or "Automatic"
    parameters = _template_parameters(call)
    tags = _tags(call)
    execution_id = ids.execution_id(sim.state.executions)
    execution = Execution(
        execution_id=execution_id,
        region_id=parameters["regionId"],
        template_name=template,
        mode=mode,
        parameters=parameters,
        tags=tags,
        created_at=call.now,
        targets=[
            {
                "instanceId": instance_id,
                "taskExecutionId": ids.hex_id("exec-task-"),
                "status": "Running",
                "exitCode": None,
                "output": "",
                "message": "",
                "startedAt": call.now,
                "endedAt": None,
            }
            for instance_id in dict.fromkeys(parameters["targets"]["ResourceIds"])
        ],
    )
    sim.state.executions[execution_id] = execution
    sim.runner.start(execution_id)
    return {"Execution": execution_view(execution, parameters_as_text=True)}


@action("Oos", "ListExecutions", mutates=False)
def list_executions(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    execution_id = params.text("ExecutionId")
    status = params.text("Status", choices=EXECUTION_STATUSES)
    template = params.text("TemplateName")
    tags = _tags(call)
    found = [
        e
        for e in sorted(sim.state.executions.values(), key=lambda e: e.created_at, reverse=True)
        if (not execution_id or e.execution_id == execution_id)
        and (not status or e.status == status)
        and (not template or e.template_name == template)
        and all(e.tags.get(k) == v for k, v in tags.items())
    ]
    page, token = page_by_offset_token(params, found, default_size=50, max_size=100, minimum=10)
    return {
        "Executions": [execution_view(e, parameters_as_text=False) for e in page],
        "NextToken": token,
        "MaxResults": params.integer("MaxResults", default=50),
        "TotalCount": len(found),
    }


@action("Oos", "ListTaskExecutions", mutates=False)
def list_task_executions(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    execution_id = params.text("ExecutionId")
    status = params.text("Status")
    tasks = []
    for execution in sorted(sim.state.executions.values(), key=lambda e: e.created_at):
        if execution_id and execution.execution_id != execution_id:
            continue
        for target in execution.targets:
            if status and target["status"] != status:
                continue
            tasks.append(_task_view(execution, target))
    page, token = page_by_offset_token(params, tasks, default_size=50, max_size=100, minimum=10)
    return {
        "TaskExecutions": page,
        "NextToken": token,
        "MaxResults": params.integer("MaxResults", default=50),
    }


def _task_view(execution: Execution, target: dict[str, Any]) -> dict[str, Any]:
    finished = target["status"] in FINISHED
    return {
        "TaskExecutionId": target["taskExecutionId"],
        "ExecutionId": execution.execution_id,
        "TaskName": "runCommand",
        "TaskAction": "ACS::ECS::RunCommand",
        "TemplateId": "t-sim-bulkyruncommand",
        # OOS task statuses have no Timeout: a timed-out command is a failed task.
        "Status": {"Timeout": "Failed"}.get(target["status"], target["status"]),
        "StatusMessage": target["message"],
        "Outputs": json.dumps(
            {
                "instanceId": target["instanceId"],
                "invocationOutput": target["output"],
                "exitCode": target["exitCode"],
                "invocationStatus": target["status"],
            },
            ensure_ascii=False,
        )
        if finished
        else "{}",
        "LoopItem": target["instanceId"],
        "Properties": json.dumps({"instanceId": target["instanceId"]}),
        "CreateDate": iso_seconds(target["startedAt"]),
        "StartDate": iso_seconds(target["startedAt"]),
        "UpdateDate": iso_seconds(target["endedAt"] or target["startedAt"]),
        "EndDate": iso_seconds(target["endedAt"]) if target["endedAt"] is not None else "",
        "ChildExecutionId": "",
        "ParentTaskExecutionId": "",
        "ExtraData": {},
    }


@action("Oos", "CancelExecution")
def cancel_execution(sim: Simulator, call: Call) -> dict[str, Any]:
    execution_id = call.params.required("ExecutionId")
    execution = sim.state.executions.get(execution_id)
    if execution is None:
        raise CloudError(
            "EntityNotExists.Execution", f"The execution {execution_id} does not exist.", 404
        )
    if execution.status not in ("Success", "Failed", "Cancelled"):
        execution.status = "Cancelled"
        execution.status_message = "The execution was cancelled by the user."
        sim.runner.cancel(execution_id)
    return {}


def fail_interrupted(state: State, now: float) -> None:
    """After a restart: executions that were running cannot be resumed."""
    for execution in state.executions.values():
        if execution.status in ("Started", "Queued", "Running", "Waiting"):
            execution.status = "Failed"
            execution.status_message = RESTARTED_MESSAGE
            execution.ended_at = now
            for target in execution.targets:
                if target["status"] not in FINISHED:
                    target.update(
                        status="Failed", exitCode=-1, message=RESTARTED_MESSAGE, endedAt=now
                    )
