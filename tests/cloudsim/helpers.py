"""SDK clients and response checks for the cloudsim tests (tests may import the SDKs)."""

from __future__ import annotations

import base64
import inspect
import json
import urllib.error
import urllib.request
from typing import Any

from alibabacloud_cms20190101.client import Client as CmsClient
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_oos20190601.client import Client as OosClient
from alibabacloud_tea_openapi import utils_models as openapi_models
from alibabacloud_tea_openapi.utils_models import Config
from alibabacloud_vpc20160428.client import Client as VpcClient
from darabonba.model import DaraModel
from darabonba.runtime import RuntimeOptions

from cloudsim.testing import RunningSim

REGION = "cn-hangzhou"
ZONE = "cn-hangzhou-i"
T4 = "ecs.gn6i-c4g1.xlarge"
A10 = "ecs.gn7i-c8g1.2xlarge"
IMAGE = "m-sim-sd-webui"
PASSWORD = "Nestops-2026!"

_no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def config(sim: RunningSim, **overrides: Any) -> Config:
    values: dict[str, Any] = {
        "access_key_id": sim.access_key_id,
        "access_key_secret": sim.access_key_secret,
        "endpoint": sim.endpoint,
        "protocol": "http",
        "read_timeout": 10_000,
        "connect_timeout": 2_000,
    }
    values.update(overrides)
    return Config(**values)


def ecs(sim: RunningSim, **overrides: Any) -> EcsClient:
    return EcsClient(config(sim, **overrides))


def vpc(sim: RunningSim, **overrides: Any) -> VpcClient:
    return VpcClient(config(sim, **overrides))


def oos(sim: RunningSim, **overrides: Any) -> OosClient:
    return OosClient(config(sim, **overrides))


def cms(sim: RunningSim, **overrides: Any) -> CmsClient:
    return CmsClient(config(sim, **overrides))


def call_raw(client: Any, version: str, action: str, query: dict[str, str]) -> dict[str, Any]:
    """A signed call of any action with any parameters, answered as a plain dict."""
    params = openapi_models.Params(
        action=action,
        version=version,
        protocol="HTTP",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    request = openapi_models.OpenApiRequest(query=query)
    return client.call_api(params, request, RuntimeOptions())


def require(model: Any, *paths: str) -> None:
    """Every dotted path of the parsed model is present (not None); the body parsed at all."""
    assert model is not None, "the SDK could not parse the response (body is None)"
    for path in paths:
        value = model
        for part in path.split("."):
            value = value[int(part)] if part.isdigit() else getattr(value, part)
            assert value is not None, f"{path} is None"


_SCALARS: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
}


def assert_typed(model: DaraModel, where: str = "body") -> None:
    """Every value the SDK parsed has the type its model declares (ints are not strings...)."""
    assert model is not None, f"{where}: the SDK could not parse the response"
    signature = inspect.signature(type(model).__init__)
    for name, parameter in signature.parameters.items():
        if name == "self":
            continue
        value = getattr(model, name, None)
        if value is None:
            continue
        annotation = str(parameter.annotation)
        label = f"{where}.{name}"
        if annotation in _SCALARS:
            expected = _SCALARS[annotation]
            ok = isinstance(value, expected) and not (
                annotation in ("int", "float") and isinstance(value, bool)
            )
            assert ok, f"{label} is {value!r}, expected {annotation}"
        elif annotation.startswith("Dict"):
            assert isinstance(value, dict), f"{label} is {value!r}, expected a dict"
        elif annotation.startswith("List"):
            assert isinstance(value, list), f"{label} is {value!r}, expected a list"
            inner = annotation[5:-1]
            for index, item in enumerate(value):
                if isinstance(item, DaraModel):
                    assert_typed(item, f"{label}[{index}]")
                elif inner in _SCALARS:
                    assert isinstance(item, _SCALARS[inner]), f"{label}[{index}] is {item!r}"
        elif isinstance(value, DaraModel):
            assert_typed(value, label)


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def http(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any, dict[str, str]]:
    """A plain HTTP call without proxies: (status, decoded JSON or text, headers)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with _no_proxy.open(request, timeout=30) as response:
            raw, status, answer_headers = response.read(), response.status, response.headers
    except urllib.error.HTTPError as error:
        raw, status, answer_headers = error.read(), error.code, error.headers
    text = raw.decode("utf-8", "replace")
    try:
        payload: Any = json.loads(text)
    except ValueError:
        payload = text
    return status, payload, dict(answer_headers)


def run_instances(client: EcsClient, network: dict[str, str], **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "region_id": REGION,
        "zone_id": ZONE,
        "instance_type": T4,
        "image_id": IMAGE,
        "security_group_id": network["security_group_id"],
        "v_switch_id": network["vswitch_id"],
        "password": PASSWORD,
        "internet_max_bandwidth_out": 10,
        "system_disk": ecs_models.RunInstancesRequestSystemDisk(category="cloud_essd", size=100),
    }
    values.update(overrides)
    return client.run_instances(ecs_models.RunInstancesRequest(**values))


def describe(client: EcsClient, instance_ids: list[str]) -> dict[str, Any]:
    """The instances by id, as parsed models."""
    response = client.describe_instances(
        ecs_models.DescribeInstancesRequest(
            region_id=REGION, instance_ids=json.dumps(instance_ids), page_size=100
        )
    )
    return {i.instance_id: i for i in response.body.instances.instance}


def start_script(
    client: OosClient,
    instance_ids: list[str],
    script: str,
    *,
    timeout: int = 60,
    working_dir: str = "/root",
    tags: dict[str, str] | None = None,
    client_token: str | None = None,
) -> Any:
    from alibabacloud_oos20190601 import models as oos_models

    parameters = {
        "regionId": REGION,
        "resourceType": "ALIYUN::ECS::Instance",
        "targets": {"Type": "ResourceIds", "ResourceIds": instance_ids, "RegionId": REGION},
        "commandType": "RunShellScript",
        "commandContent": script,
        "workingDir": working_dir,
        "timeout": timeout,
    }
    return client.start_execution(
        oos_models.StartExecutionRequest(
            region_id=REGION,
            template_name="ACS-ECS-BulkyRunCommand",
            parameters=json.dumps(parameters),
            mode="Automatic",
            tags=tags,
            client_token=client_token,
        )
    )


def wait_execution(client: OosClient, execution_id: str, timeout: float = 15.0) -> Any:
    """Polls ListExecutions until the execution finishes; returns its parsed model."""
    import time

    from alibabacloud_oos20190601 import models as oos_models

    deadline = time.monotonic() + timeout
    while True:
        body = client.list_executions(
            oos_models.ListExecutionsRequest(region_id=REGION, execution_id=execution_id)
        ).body
        execution = body.executions[0]
        if execution.status in ("Success", "Failed", "Cancelled"):
            return execution
        assert time.monotonic() < deadline, f"{execution_id} still {execution.status}"
        time.sleep(0.05)


def run_script(client: OosClient, instance_ids: list[str], script: str, **kwargs: Any) -> Any:
    started = start_script(client, instance_ids, script, **kwargs)
    return wait_execution(client, started.body.execution.execution_id)


def process_gone(pid: int) -> bool:
    """The process no longer runs (it may linger as a zombie until its parent reaps it)."""
    import os
    from pathlib import Path

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    status = Path(f"/proc/{pid}/status")
    try:
        return "State:\tZ" in status.read_text()
    except OSError:
        return True
