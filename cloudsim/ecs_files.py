"""ECS SendFile (Cloud Assistant): really writes small files into host sandboxes."""

from __future__ import annotations

import base64
import binascii
import os
from typing import TYPE_CHECKING, Any

from cloudsim import ids
from cloudsim.api import Call, action
from cloudsim.clock import iso_seconds
from cloudsim.errors import CloudError, incorrect_instance_status, instance_not_found, invalid
from cloudsim.paging import page_by_number, page_by_offset_token, uses_tokens
from cloudsim.sandbox import SandboxPathError, host_path

if TYPE_CHECKING:
    from cloudsim.simulator import Simulator

MAX_CONTENT_BYTES = 32 * 1024
MAX_INSTANCES = 50


def _content(call: Call) -> tuple[bytes, str]:
    params = call.params
    content = params.required("Content")
    content_type = params.text("ContentType", default="PlainText", choices=("PlainText", "Base64"))
    if len(content.encode("utf-8")) > MAX_CONTENT_BYTES:
        raise invalid("Content", "The content of SendFile must be at most 32 KB.")
    if content_type == "Base64":
        try:
            return base64.b64decode(content, validate=True), "Base64"
        except (binascii.Error, ValueError):
            raise invalid("Content", "It is not valid base64.") from None
    return content.encode("utf-8"), "PlainText"


@action("Ecs", "SendFile", client_token=True)
def send_file(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region_id = params.required("RegionId")
    sim.catalog.region(region_id)
    instance_ids = list(dict.fromkeys(params.items("InstanceId", max_items=MAX_INSTANCES)))
    if not instance_ids:
        raise CloudError(
            "MissingParameter",
            'The input parameter "InstanceId" that is mandatory for processing this request is '
            "not supplied.",
        )
    name = params.required("Name")
    if "/" in name or name in (".", ".."):
        raise invalid("Name", "It is a file name, not a path.")
    target_dir = params.required("TargetDir")
    data, content_type = _content(call)
    mode_text = params.text("FileMode", default="0644") or "0644"
    if not (3 <= len(mode_text) <= 4 and all(c in "01234567" for c in mode_text)):
        raise invalid("FileMode", "Use an octal mode such as 0644.")
    overwrite = params.boolean("Overwrite")
    instances = []
    for instance_id in instance_ids:
        instance = sim.state.instances.get(instance_id)
        if instance is None or instance.region_id != region_id:
            raise instance_not_found(instance_id)
        status = instance.status_at(call.now)
        if status != "Running":
            raise incorrect_instance_status(instance_id, status, "Running")
        instances.append(instance)

    results = []
    for instance in instances:
        error_code = error_info = ""
        try:
            directory = host_path(sim.sandboxes.path(instance.instance_id), target_dir)
            target = directory / name
            if target.exists() and not overwrite:
                error_code, error_info = "FileAlreadyExists", f"{target_dir}/{name} already exists."
            else:
                directory.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                os.chmod(target, int(mode_text, 8))
        except SandboxPathError as error:
            error_code, error_info = "InvalidTargetDir", str(error)
        except OSError as error:
            error_code, error_info = "FileWriteFailed", str(error)
        results.append(
            {
                "InstanceId": instance.instance_id,
                "InvocationStatus": "Failed" if error_code else "Success",
                "ErrorCode": error_code,
                "ErrorInfo": error_info,
                "CreationTime": iso_seconds(call.now),
                "StartTime": iso_seconds(call.now),
                "FinishTime": iso_seconds(call.now),
                "UpdateTime": iso_seconds(call.now),
            }
        )
    failed = sum(1 for r in results if r["InvocationStatus"] == "Failed")
    overall = "Success" if not failed else "Failed" if failed == len(results) else "PartialFailed"
    invoke_id = f"f-{ids.hex_id('', 18)}"
    sim.state.send_files[invoke_id] = {
        "InvokeId": invoke_id,
        "RegionId": region_id,
        "Name": name,
        "TargetDir": target_dir,
        "ContentType": content_type,
        "Content": params.values["Content"],
        "FileMode": mode_text,
        "FileOwner": params.text("FileOwner", default="root"),
        "FileGroup": params.text("FileGroup", default="root"),
        "Overwrite": "true" if overwrite else "false",
        "Description": params.text("Description", default="") or "",
        "CreationTime": iso_seconds(call.now),
        "VmCount": len(results),
        "InvocationStatus": overall,
        "InvokeInstances": {"InvokeInstance": results},
        "Tags": {"Tag": []},
    }
    return {"InvokeId": invoke_id}


@action("Ecs", "DescribeSendFileResults", mutates=False)
def describe_send_file_results(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region_id = params.required("RegionId")
    sim.catalog.region(region_id)
    invoke_id = params.text("InvokeId")
    instance_id = params.text("InstanceId")
    name = params.text("Name")
    status = params.text("InvocationStatus")
    found = [
        record
        for record in reversed(list(sim.state.send_files.values()))
        if record["RegionId"] == region_id
        and (not invoke_id or record["InvokeId"] == invoke_id)
        and (not name or record["Name"] == name)
        and (not status or record["InvocationStatus"] == status)
        and (
            not instance_id
            or any(
                i["InstanceId"] == instance_id for i in record["InvokeInstances"]["InvokeInstance"]
            )
        )
    ]
    body: dict[str, Any] = {"TotalCount": len(found)}
    if uses_tokens(params):
        page, token = page_by_offset_token(params, found, default_size=10, max_size=50)
        body.update({"NextToken": token, "PageNumber": 1, "PageSize": len(page)})
    else:
        page, number, size = page_by_number(params, found, max_size=50)
        body.update({"NextToken": "", "PageNumber": number, "PageSize": size})
    body["Invocations"] = {
        "Invocation": [{k: v for k, v in r.items() if k != "RegionId"} for r in page]
    }
    return body
