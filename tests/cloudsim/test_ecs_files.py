"""SendFile writes real files into host sandboxes."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from alibabacloud_ecs20140526 import models as m
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.cloudsim import helpers


def _send(ecs, ids, **overrides):
    values = {
        "region_id": helpers.REGION,
        "instance_id": ids,
        "name": "hello.txt",
        "target_dir": "/root/files",
        "content": "hello, 世界\n",
    }
    values.update(overrides)
    return ecs.send_file(m.SendFileRequest(**values))


def test_send_file_writes_into_every_host(sim, ecs, make_hosts):
    ids = make_hosts(2)
    body = _send(ecs, ids, file_mode="0600").body
    helpers.require(body, "invoke_id", "request_id")
    for host_id in ids:
        target = Path(sim.instance(host_id)["sandbox"]) / "root/files/hello.txt"
        assert target.read_text(encoding="utf-8") == "hello, 世界\n"
        assert oct(os.stat(target).st_mode & 0o777) == "0o600"
    results = ecs.describe_send_file_results(
        m.DescribeSendFileResultsRequest(region_id=helpers.REGION, invoke_id=body.invoke_id)
    ).body
    helpers.assert_typed(results)
    [invocation] = results.invocations.invocation
    helpers.require(
        invocation,
        "invocation_status",
        "name",
        "target_dir",
        "invoke_instances.invoke_instance.0.instance_id",
    )
    assert invocation.invocation_status == "Success"
    assert {i.instance_id for i in invocation.invoke_instances.invoke_instance} == set(ids)


def test_send_file_keeps_an_existing_file_unless_told_to_overwrite(sim, ecs, make_hosts):
    [host_id] = make_hosts()
    _send(ecs, [host_id])
    kept = _send(ecs, [host_id], content="second").body.invoke_id
    results = ecs.describe_send_file_results(
        m.DescribeSendFileResultsRequest(region_id=helpers.REGION, invoke_id=kept)
    ).body
    [invocation] = results.invocations.invocation
    assert invocation.invocation_status == "Failed"
    assert invocation.invoke_instances.invoke_instance[0].error_code == "FileAlreadyExists"
    _send(
        ecs,
        [host_id],
        content=base64.b64encode(b"third").decode(),
        content_type="Base64",
        overwrite=True,
    )
    target = Path(sim.instance(host_id)["sandbox"]) / "root/files/hello.txt"
    assert target.read_bytes() == b"third"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"content": "x" * (32 * 1024 + 1)}, "InvalidParameter"),
        ({"content": "%%%", "content_type": "Base64"}, "InvalidParameter"),
        ({"name": None}, "MissingParameter"),
        ({"file_mode": "999"}, "InvalidParameter"),
        ({"instance_id": ["i-bp1doesnotexist0000"]}, "InvalidInstanceId.NotFound"),
    ],
)
def test_send_file_validates_its_input(ecs, make_hosts, overrides, code):
    [host_id] = make_hosts()
    values = {"instance_id": [host_id], **overrides}
    with pytest.raises(ClientException) as caught:
        _send(ecs, values.pop("instance_id"), **values)
    assert caught.value.code == code


def test_send_file_needs_a_running_host(sim, ecs, make_hosts):
    [host_id] = make_hosts()
    ecs.stop_instance(m.StopInstanceRequest(instance_id=host_id))
    with pytest.raises(ClientException) as caught:
        _send(ecs, [host_id])
    assert (caught.value.code, caught.value.status_code) == ("IncorrectInstanceStatus", 403)
