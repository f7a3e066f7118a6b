"""State survives a restart; executions that were running come back Failed."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from alibabacloud_ecs20140526 import models as em
from alibabacloud_oos20190601 import models as om

from cloudsim.testing import start_sim
from tests.cloudsim import helpers


def _network(sim):
    from alibabacloud_vpc20160428 import models as vm

    vpc = helpers.vpc(sim)
    vpc_id = vpc.create_vpc(
        vm.CreateVpcRequest(region_id=helpers.REGION, cidr_block="10.0.0.0/16")
    ).body.vpc_id
    sim.advance(2)
    vswitch_id = vpc.create_vswitch(
        vm.CreateVSwitchRequest(
            region_id=helpers.REGION, vpc_id=vpc_id, zone_id=helpers.ZONE, cidr_block="10.0.0.0/24"
        )
    ).body.v_switch_id
    group_id = (
        helpers.ecs(sim)
        .create_security_group(
            em.CreateSecurityGroupRequest(region_id=helpers.REGION, vpc_id=vpc_id)
        )
        .body.security_group_id
    )
    sim.advance(2)
    return {"vpc_id": vpc_id, "vswitch_id": vswitch_id, "security_group_id": group_id}


def test_state_survives_a_restart(tmp_path):
    first = start_sim(tmp_path, speed=20)
    token = uuid.uuid4().hex
    try:
        network = _network(first)
        ecs = helpers.ecs(first)
        ids = helpers.run_instances(
            ecs, network, amount=2, client_token=token
        ).body.instance_id_sets.instance_id_set
        first.advance(6)
        ecs.stop_instance(em.StopInstanceRequest(instance_id=ids[1], stopped_mode="StopCharging"))
        first.advance(6)
        first.set_stock(helpers.ZONE, helpers.T4, 33)
        first.load(ids[0], gpu=90, seconds=120)
        sandbox = Path(first.instance(ids[0])["sandbox"])
        script = 'echo $$ > "$NESTOPS_HOST_ROOT/tmp/long"; sleep 60'
        execution_id = helpers.start_script(
            helpers.oos(first), [ids[0]], script
        ).body.execution.execution_id
        deadline = time.monotonic() + 10
        while not (sandbox / "tmp" / "long").exists():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        script_pid = int((sandbox / "tmp" / "long").read_text())
        saved_clock = first.clock()["epoch_ms"]
    finally:
        first.stop()
    assert first.process.returncode == 0
    saved = json.loads((tmp_path / "state.json").read_text())
    assert saved["format"] == "cloudsim-state"
    assert helpers.process_gone(script_pid), "the script outlived the simulator"

    second = start_sim(tmp_path, speed=20)
    try:
        assert second.clock()["epoch_ms"] >= saved_clock
        ecs = helpers.ecs(second)
        hosts = helpers.describe(ecs, ids)
        assert hosts[ids[0]].status == "Running"
        assert (hosts[ids[1]].status, hosts[ids[1]].stopped_mode) == ("Stopped", "StopCharging")
        assert sandbox.is_dir()
        again = helpers.run_instances(ecs, network, amount=2, client_token=token)
        assert again.body.instance_id_sets.instance_id_set == ids
        stock = {
            (s["zone_id"], s["instance_type"]): s["available"]
            for s in second.request("GET", "/_sim/stock")
        }
        assert stock[(helpers.ZONE, helpers.T4)] == 33
        execution = (
            helpers.oos(second)
            .list_executions(
                om.ListExecutionsRequest(region_id=helpers.REGION, execution_id=execution_id)
            )
            .body.executions[0]
        )
        assert execution.status == "Failed"
        assert "restarted" in execution.status_message
        assert second.instance(ids[0])["activity"][0]["gpu"] == 90
        status, _, _ = helpers.http("GET", f"{second.webui_url(ids[0])}/sdapi/v1/progress")
        assert status == 200
    finally:
        second.stop()


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_data_on_disk_is_private_and_holds_no_request_secrets(tmp_path):
    secrets = ["webui-pw-Zq81xv", "hf_TokenQ7w2e9r4"]
    script = f"printf '%s %s' '{secrets[0]}' '{secrets[1]}' > /dev/null"
    first = start_sim(tmp_path, speed=20)
    try:
        network = _network(first)
        ecs = helpers.ecs(first)
        ids = helpers.run_instances(
            ecs, network, client_token="run-private-1"
        ).body.instance_id_sets.instance_id_set
        first.advance(6)
        oos = helpers.oos(first)
        started = helpers.start_script(oos, ids, script, client_token="exec-private-1")
        helpers.wait_execution(oos, started.body.execution.execution_id)
        sandbox = Path(first.instance(ids[0])["sandbox"])
    finally:
        first.stop()
    state = tmp_path / "state.json"
    text = state.read_text()
    for secret in [helpers.PASSWORD, *secrets]:
        assert secret not in text
    scripts = list((sandbox / ".sim" / "scripts").glob("*"))
    assert scripts and {_mode(p) for p in scripts} == {0o600}
    assert _mode(tmp_path) == _mode(sandbox) == _mode(sandbox.parent) == 0o700
    assert _mode(state) == 0o600

    # An older cloudsim left them readable; the next start fixes that.
    for path in [state, *scripts]:
        path.chmod(0o644)
    for path in (tmp_path, sandbox.parent, sandbox):
        path.chmod(0o755)
    second = start_sim(tmp_path, speed=20)
    try:
        assert _mode(state) == 0o600 and {_mode(p) for p in scripts} == {0o600}
        assert _mode(tmp_path) == _mode(sandbox) == _mode(sandbox.parent) == 0o700
        ecs = helpers.ecs(second)
        again = helpers.run_instances(ecs, network, client_token="run-private-1")
        assert again.body.instance_id_sets.instance_id_set == ids
        oos = helpers.oos(second)
        replay = helpers.start_script(oos, ids, script, client_token="exec-private-1")
        assert replay.body.execution.execution_id == started.body.execution.execution_id
        try:
            helpers.start_script(oos, ids, "echo other", client_token="exec-private-1")
        except Exception as error:
            assert "IdempotentParameterMismatch" in str(error)
        else:
            raise AssertionError("a different script under the same ClientToken was accepted")
    finally:
        second.stop()


def test_a_state_file_with_plain_fingerprints_still_loads():
    from cloudsim import digests
    from cloudsim.catalog import default_catalog
    from cloudsim.state import State

    business = {"RegionId": "cn-hangzhou", "Password": "Old-Secret-1"}
    plain = json.dumps(business, sort_keys=True, ensure_ascii=False)
    state = State(default_catalog())
    state.load_dict({"tokens": {"Ecs.RunInstances:t-1": {"fingerprint": plain, "body": {}}}})

    remembered = state.tokens["Ecs.RunInstances:t-1"]
    assert remembered["fingerprint"] == digests.request_fingerprint(business)
    assert "Old-Secret-1" not in json.dumps(state.to_dict())


def test_a_tls_host_answers_with_its_certificate_after_a_restart(tmp_path):
    import ssl

    from tests.cloudsim.test_webui_tls import TLS_DEPLOY

    first = start_sim(tmp_path, speed=20)
    try:
        ecs = helpers.ecs(first)
        [host] = helpers.run_instances(ecs, _network(first)).body.instance_id_sets.instance_id_set
        first.advance(6)
        finished = helpers.run_script(helpers.oos(first), [host], TLS_DEPLOY)
        assert finished.status == "Success", finished.status_message
        port = first.instance(host)["webui_tls_port"]
        before = ssl.get_server_certificate(("127.0.0.1", port), timeout=10)
    finally:
        first.stop()
    second = start_sim(tmp_path, speed=20)
    try:
        # No script has run on the host since: its listener is back on its own.
        port = second.instance(host)["webui_tls_port"]
        assert port is not None
        assert ssl.get_server_certificate(("127.0.0.1", port), timeout=10) == before
    finally:
        second.stop()
