"""OOS ACS-ECS-BulkyRunCommand: scripts really run with bash in the host sandboxes."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from alibabacloud_ecs20140526 import models as em
from alibabacloud_oos20190601 import models as om
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.cloudsim import helpers


@pytest.fixture
def oos(sim):
    return helpers.oos(sim)


def _outputs(execution) -> list[dict]:
    return json.loads(execution.outputs)["commandOutputs"]


def _wait_for(path: Path, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)
    return path.read_text().strip()


SCRIPT = r"""set -eu
echo "root=$NESTOPS_HOST_ROOT"
echo "pwd=$(pwd)"
echo "home=$HOME"
test -f "$NESTOPS_HOST_ROOT/root/stable-diffusion-webui/webui.sh"
grep -q -- '--api' "$NESTOPS_HOST_ROOT/etc/sd-webui/webui.env"
systemctl is-active sd-webui
webui="${NESTOPS_WEBUI_URL:-http://127.0.0.1:7860}"
curl -fsS "$webui/sdapi/v1/progress" >/dev/null && echo "webui answers"
echo "done ✓"
"""


def test_a_script_runs_in_the_host_sandbox(sim, oos, make_hosts):
    [host_id] = make_hosts()
    started = helpers.start_script(
        oos, [host_id], SCRIPT, working_dir="/root/work", tags={"op": "deploy"}
    )
    execution = started.body.execution
    helpers.require(
        execution, "execution_id", "status", "template_name", "parameters", "start_date"
    )
    helpers.assert_typed(started.body)
    assert execution.status == "Running"
    assert json.loads(execution.parameters)["timeout"] == 60

    finished = helpers.wait_execution(oos, execution.execution_id)
    helpers.require(finished, "status", "outputs", "parameters", "end_date", "tags")
    assert finished.status == "Success", finished.status_message
    assert (
        isinstance(finished.parameters, dict) and finished.parameters["workingDir"] == "/root/work"
    )
    [output] = _outputs(finished)
    sandbox = sim.instance(host_id)["sandbox"]
    assert output["instanceId"] == host_id
    assert output["exitCode"] == 0
    assert output["invocationStatus"] == "Success"
    text = output["invocationOutput"]
    assert f"root={sandbox}" in text
    assert f"pwd={sandbox}/root/work" in text
    assert f"home={sandbox}/root" in text
    assert "active" in text and "webui answers" in text and "done ✓" in text

    tasks = oos.list_task_executions(
        om.ListTaskExecutionsRequest(region_id=helpers.REGION, execution_id=execution.execution_id)
    ).body
    helpers.assert_typed(tasks)
    [task] = tasks.task_executions
    helpers.require(
        task, "task_name", "status", "outputs", "start_date", "end_date", "task_execution_id"
    )
    assert (task.status, json.loads(task.outputs)["exitCode"]) == ("Success", 0)


def test_a_non_zero_exit_fails_the_execution(oos, make_hosts):
    ids = make_hosts(2)
    script = (
        'echo "on $(hostname) oops" >&2; '
        f'[ "$(basename "$NESTOPS_HOST_ROOT")" = "{ids[0]}" ] || exit 3'
    )
    finished = helpers.run_script(oos, ids, script)
    assert finished.status == "Failed"
    assert "3" in finished.status_message and ids[1] in finished.status_message
    outputs = {o["instanceId"]: o for o in _outputs(finished)}
    assert outputs[ids[0]]["exitCode"] == 0 and outputs[ids[0]]["invocationStatus"] == "Success"
    assert outputs[ids[1]]["exitCode"] == 3 and outputs[ids[1]]["invocationStatus"] == "Failed"
    assert "oops" in outputs[ids[1]]["invocationOutput"]


def test_a_script_that_runs_too_long_is_killed(sim, oos, make_hosts):
    [host_id] = make_hosts()
    script = (
        'sleep 60 & echo $! > "$NESTOPS_HOST_ROOT/tmp/child"; '
        'echo $$ > "$NESTOPS_HOST_ROOT/tmp/pid"; wait'
    )
    began = time.monotonic()
    finished = helpers.run_script(oos, [host_id], script, timeout=1)
    assert time.monotonic() - began < 5
    assert finished.status == "Failed"
    assert "timed out" in finished.status_message
    [output] = _outputs(finished)
    assert output["invocationStatus"] == "Timeout"
    sandbox = Path(sim.instance(host_id)["sandbox"])
    for name in ("pid", "child"):
        assert helpers.process_gone(int((sandbox / "tmp" / name).read_text())), name


def test_a_cancelled_execution_kills_its_processes(sim, oos, make_hosts):
    [host_id] = make_hosts()
    sandbox = Path(sim.instance(host_id)["sandbox"])
    script = 'sleep 60 & echo $! > "$NESTOPS_HOST_ROOT/tmp/cancel-child"; wait'
    started = helpers.start_script(oos, [host_id], script)
    execution_id = started.body.execution.execution_id
    child = int(_wait_for(sandbox / "tmp" / "cancel-child"))
    helpers.require(
        oos.cancel_execution(
            om.CancelExecutionRequest(region_id=helpers.REGION, execution_id=execution_id)
        ).body,
        "request_id",
    )
    finished = helpers.wait_execution(oos, execution_id)
    assert finished.status == "Cancelled"
    deadline = time.monotonic() + 5
    while not helpers.process_gone(child):
        assert time.monotonic() < deadline, "the script's child survived the cancellation"
        time.sleep(0.02)
    [output] = _outputs(helpers.wait_execution(oos, execution_id))
    assert output["invocationStatus"] == "Cancelled"


def test_a_host_that_is_not_running_fails_the_execution(sim, oos, make_hosts):
    [host_id] = make_hosts()
    helpers.ecs(sim).stop_instance(em.StopInstanceRequest(instance_id=host_id))
    finished = helpers.run_script(oos, [host_id], "echo hi")
    assert finished.status == "Failed"
    assert "not Running" in finished.status_message


def test_start_execution_validates_its_input(oos, make_hosts):
    [host_id] = make_hosts()
    with pytest.raises(ClientException) as caught:
        oos.start_execution(
            om.StartExecutionRequest(
                region_id=helpers.REGION, template_name="ACS-ECS-Nope", parameters="{}"
            )
        )
    assert (caught.value.code, caught.value.status_code) == ("EntityNotExists.Template", 404)
    with pytest.raises(ClientException) as caught:
        helpers.start_script(oos, [host_id], "")
    assert caught.value.code == "MissingParameter"
    with pytest.raises(ClientException) as caught:
        helpers.start_script(oos, [host_id], "x" * 16385)
    assert caught.value.code == "InvalidParameter"
    with pytest.raises(ClientException) as caught:
        oos.start_execution(
            om.StartExecutionRequest(
                region_id=helpers.REGION,
                template_name="ACS-ECS-BulkyRunCommand",
                parameters="{not json",
            )
        )
    assert caught.value.code == "InvalidParameter"


def test_start_execution_is_idempotent_with_a_client_token(oos, make_hosts):
    [host_id] = make_hosts()
    token = uuid.uuid4().hex
    first = helpers.start_script(
        oos, [host_id], "true", client_token=token
    ).body.execution.execution_id
    again = helpers.start_script(
        oos, [host_id], "true", client_token=token
    ).body.execution.execution_id
    assert first == again
    with pytest.raises(ClientException) as caught:
        helpers.start_script(oos, [host_id], "false", client_token=token)
    assert caught.value.code == "IdempotentParameterMismatch"


def test_list_executions_filters_and_pages(oos, make_hosts):
    [host_id] = make_hosts()
    marker = uuid.uuid4().hex
    ids = [
        helpers.start_script(
            oos, [host_id], "true", tags={"batch": marker}
        ).body.execution.execution_id
        for _ in range(12)
    ]
    for execution_id in ids:
        helpers.wait_execution(oos, execution_id)
    seen, token = [], None
    while True:
        body = oos.list_executions(
            om.ListExecutionsRequest(
                region_id=helpers.REGION, tags={"batch": marker}, max_results=10, next_token=token
            )
        ).body
        helpers.assert_typed(body)
        seen += [e.execution_id for e in body.executions]
        token = body.next_token
        if not token:
            break
    assert sorted(seen) == sorted(ids)
    body = oos.list_executions(
        om.ListExecutionsRequest(region_id=helpers.REGION, tags={"batch": marker}, status="Failed")
    ).body
    assert body.executions == []
    with pytest.raises(ClientException) as caught:
        oos.list_executions(om.ListExecutionsRequest(region_id=helpers.REGION, max_results=5))
    assert caught.value.code == "InvalidParameter"


def test_cancelling_an_unknown_execution_is_not_found(oos):
    with pytest.raises(ClientException) as caught:
        oos.cancel_execution(
            om.CancelExecutionRequest(region_id=helpers.REGION, execution_id="exec-nope")
        )
    assert (caught.value.code, caught.value.status_code) == ("EntityNotExists.Execution", 404)
