"""Missing or malformed parameters never give a 500: every action, every garbage value."""

from __future__ import annotations

import json

import pytest
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException

import cloudsim.simulator  # noqa: F401  (registers every action)
from cloudsim.api import VERSIONS, registered_actions
from tests.cloudsim import helpers

PRODUCT_VERSIONS = {product: version for version, product in VERSIONS.items()}
GARBAGE = {
    "RegionId": "cn-hangzhou",
    "InstanceId": "%%%",
    "InstanceIds": "[",
    "InstanceType": "ecs.",
    "Amount": "many",
    "Period": "-1",
    "PageSize": "0",
    "PageNumber": "x",
    "MaxResults": "1e9",
    "NextToken": "not-a-token",
    "DryRun": "maybe",
    "Tag.x.Key": "k",
    "Tag.1": "v",
    "Permissions.1.PortRange": "a/b",
    "SystemDisk.Size": "huge",
    "Dimensions": "{",
    "Parameters": "[1]",
    "Tags": "nope",
    "StartTime": "yesterday",
    "CidrBlock": "10.0.0.0/99",
    "Content": "\u0000",
    "InstanceId.1": "",
    "ExecutionId": "",
    "SecurityGroupId": "sg-",
    "VpcId": "",
}


def _actions():
    return [name.split(".", 1) for name in registered_actions()]


@pytest.mark.parametrize(("product", "action"), _actions())
def test_no_action_answers_500_to_bad_input(sim, product, action):
    client = helpers.ecs(sim)
    version = PRODUCT_VERSIONS[product]
    attempts = [{}, dict(GARBAGE)] + [{"RegionId": "cn-hangzhou", k: v} for k, v in GARBAGE.items()]
    for query in attempts:
        try:
            helpers.call_raw(client, version, action, query)
        except AlibabaCloudException as error:
            assert error.status_code < 500, (action, query, error.code, error.message)


def test_malformed_http_never_gives_a_traceback(sim):
    for path in (
        "/?%zz=%%",
        "/?Action=DescribeRegions&Version=2014-05-26&Signature=x&AccessKeyId=nestops-sim",
        "/nothing/here",
        "/hosts/",
        "/_sim/",
    ):
        status, body, _ = helpers.http("POST", sim.base_url + path)
        assert status < 500, (path, body)
        assert isinstance(body, dict), (path, body)


def test_a_bug_inside_the_simulator_is_a_json_internal_error(tmp_path, monkeypatch, capsys):
    from cloudsim import api
    from cloudsim.config import SimConfig
    from cloudsim.simulator import Simulator

    def broken(sim, call):
        raise RuntimeError("a bug")

    spec = api._ACTIONS[("Ecs", "DescribeRegions")]
    monkeypatch.setitem(
        api._ACTIONS,
        ("Ecs", "DescribeRegions"),
        spec.__class__(spec.product, spec.action, broken, spec.mutates, spec.client_token),
    )
    monkeypatch.setattr(api.signing, "verify", lambda *args: "nestops-sim")
    sim = Simulator(SimConfig(data_dir=tmp_path))
    answer = api.handle(
        sim,
        "POST",
        "/",
        {},
        {"x-acs-version": "2014-05-26", "x-acs-action": "DescribeRegions"},
        b"",
    )
    body = json.loads(answer.body)
    assert answer.status == 500
    assert body["Code"] == "InternalError" and body["RequestId"]
    assert "RuntimeError: a bug" in capsys.readouterr().err


def test_api_calls_may_use_get(sim):
    client = helpers.ecs(sim)
    params = helpers.openapi_models.Params(
        action="DescribeRegions",
        version="2014-05-26",
        protocol="HTTP",
        pathname="/",
        method="GET",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    from darabonba.runtime import RuntimeOptions

    answer = client.call_api(
        params, helpers.openapi_models.OpenApiRequest(query={}), RuntimeOptions()
    )
    assert answer["statusCode"] == 200 and answer["body"]["Regions"]["Region"]
