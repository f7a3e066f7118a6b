"""The account check against cloudsim: a RAM user's missing policies are found, named and
mapped to the actions they lack; deploys refuse early; the command and the page show it."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from cloud import preflight
from cloudaccount import checks
from instances.models import ServiceInstance
from nestops.errors import Refused
from tests.driving import REGION, deploy

_names = itertools.count()


@pytest.fixture
def ram_user(sim, settings):
    """Switches the control plane to a new RAM user's key with the given policies."""

    def use(*policies: str) -> str:
        key_id = f"ram-user-{next(_names)}"
        sim.add_ram_user(key_id, f"{key_id}-secret", list(policies))
        settings.NESTOPS_SIM_ACCESS_KEY_ID = key_id
        settings.NESTOPS_SIM_ACCESS_KEY_SECRET = f"{key_id}-secret"
        return key_id

    return use


def test_the_accounts_key_may_do_everything_nestops_needs(sim) -> None:
    result = preflight.check_account(REGION)
    assert result.ok, result.missing
    assert "cloudsim access key" in result.credential_source
    actions = {(r.product, r.action) for r in result.results}
    assert {("ECS", "RunInstances"), ("VPC", "CreateVpc"), ("OOS", "StartExecution")} <= actions
    state = sim.state()
    assert not [i for i in state.get("instances", []) if "preflight" in str(i)]


def test_missing_policies_are_named_with_the_actions_they_lack(sim, ram_user) -> None:
    ram_user("AliyunECSFullAccess", "AliyunCloudMonitorReadOnlyAccess")
    result = preflight.check_account(REGION)
    assert not result.ok
    missing = result.missing_policies
    assert set(missing) == {"AliyunVPCFullAccess", "AliyunOOSFullAccess", "AliyunBSSReadOnlyAccess"}
    assert "VPC:CreateVpc" in missing["AliyunVPCFullAccess"]
    assert "OOS:StartExecution" in missing["AliyunOOSFullAccess"]
    codes = {r.code for r in result.missing}
    assert codes == {"Forbidden.RAM", "NoPermission"}
    text = checks.advice(result)
    assert "Grant AliyunVPCFullAccess" in text and "VPC:DeleteVpc" in text


@pytest.mark.django_db
def test_a_deploy_is_refused_before_anything_is_made(sim, ram_user, settings, team, alice) -> None:
    settings.NESTOPS_DEPLOY_CHECKS_ACCOUNT = True
    key_id = ram_user("AliyunECSFullAccess", "AliyunVPCFullAccess")
    sim.reset_calls()
    with pytest.raises(Refused) as refused:
        deploy(team, alice, sim)
    assert refused.value.code == "cloud_permissions_missing"
    assert "AliyunOOSFullAccess" in refused.value.message
    assert not ServiceInstance.objects.exists()
    assert sim.calls().get("Ecs.RunInstances") == 1  # the DryRun probe only
    assert key_id


@pytest.mark.django_db
def test_the_command_and_the_page_report_the_check(sim, ram_user, carol, bob) -> None:
    ram_user("AliyunECSReadOnlyAccess")
    with pytest.raises(CommandError, match="Grant AliyunECSFullAccess"):
        call_command("check_cloud", "--region", REGION)
    client = Client()
    client.force_login(carol)
    page = client.post("/cloud-account/", {"region": REGION})
    text = page.content.decode()
    assert page.status_code == 200
    assert "ECS:RunInstances" in text and "Forbidden.RAM" in text
    viewer = Client()
    viewer.force_login(bob)
    assert viewer.get("/cloud-account/").status_code == 403


@pytest.mark.django_db
def test_the_deploy_wizard_shows_the_advice_instead_of_deploying(
    sim, ram_user, settings, team, alice
) -> None:
    from tests.driving import in_stock_offer

    settings.NESTOPS_DEPLOY_CHECKS_ACCOUNT = True
    zone, instance_type = in_stock_offer()
    ram_user("AliyunECSFullAccess", "AliyunOOSFullAccess", "AliyunCloudMonitorReadOnlyAccess")
    client = Client()
    client.force_login(alice)
    response = client.post(
        "/instances/new/",
        {
            "name": "refused-1",
            "template": "sd-webui",
            "webui_language": "zh_CN",
            "region": REGION,
            "zone": zone,
            "instance_type": instance_type,
            "charge_type": "PostPaid",
            "network": "new",
            "vpc_cidr": "192.168.0.0/16",
            "vswitch_cidr": "192.168.0.0/24",
        },
    )
    assert response.status_code == 409, response.status_code
    assert "AliyunVPCFullAccess" in response.content.decode()
    assert not ServiceInstance.objects.exists()


# --- quota and balance ------------------------------------------------------------------------
# The simulated cloud may hold other tests' hosts: quotas are set above what is already used.


def used_vcpus() -> int:
    quota = preflight.check_account(REGION).quota
    assert quota is not None
    return quota.used_vcpus


def test_the_check_reads_the_vcpu_quota_and_the_balance(sim) -> None:
    used = used_vcpus()
    sim.set_account(vcpu_quota=used + 64, available_amount=5000)
    result = preflight.check_account(REGION)
    assert result.ok, result.missing
    assert result.quota is not None and result.quota.max_vcpus == used + 64
    assert result.quota.used_vcpus == used and result.quota.free_vcpus == 64
    assert result.balance is not None and str(result.balance.available) == "5000.00"
    assert result.balance.currency == "CNY"
    assert result.smallest is not None and result.smallest.vcpus > 0
    assert result.smallest.hourly is not None and result.smallest.hourly > 0
    assert checks.warnings(result) == []
    actions = {(r.product, r.action) for r in result.results}
    assert {("ECS", "DescribeAccountAttributes"), ("BSS", "QueryAccountBalance")} <= actions


def test_a_quota_too_small_for_one_host_is_a_warning_with_advice(sim) -> None:
    sim.set_account(vcpu_quota=used_vcpus() + 2)
    result = preflight.check_account(REGION)
    assert result.ok  # a warning, the permissions are there
    assert result.quota is not None and result.quota.free_vcpus == 2
    found = checks.warnings(result)
    assert len(found) == 1 and "Quota Center" in found[0]
    assert result.smallest is not None and result.smallest.instance_type in found[0]


def test_a_low_balance_is_a_warning_with_advice(sim, settings) -> None:
    settings.NESTOPS_BALANCE_WARNING_HOURS = 24
    sim.set_account(available_amount=1)
    result = preflight.check_account(REGION)
    assert result.ok
    found = checks.warnings(result)
    assert len(found) == 1 and "top up" in found[0] and "24" in found[0]
    settings.NESTOPS_BALANCE_WARNING_HOURS = 0
    assert checks.warnings(result) == []


def test_denied_quota_and_balance_reads_map_to_their_policies(sim, ram_user) -> None:
    ram_user(
        "AliyunVPCFullAccess",
        "AliyunOOSFullAccess",
        "AliyunCloudMonitorReadOnlyAccess",
        "AliyunECSReadOnlyAccess",
    )
    result = preflight.check_account(REGION)
    missing = result.missing_policies
    assert "BSS:QueryAccountBalance" in missing["AliyunBSSReadOnlyAccess"]
    assert "ECS:DescribeAccountAttributes" not in missing.get("AliyunECSFullAccess", [])
    assert result.quota is not None and result.balance is None

    ram_user(
        "AliyunVPCFullAccess",
        "AliyunOOSFullAccess",
        "AliyunCloudMonitorReadOnlyAccess",
        "AliyunBSSReadOnlyAccess",
    )
    result = preflight.check_account(REGION)
    assert "ECS:DescribeAccountAttributes" in result.missing_policies["AliyunECSFullAccess"]
    assert result.quota is None and result.balance is not None


def test_a_denied_balance_read_alone_does_not_block_deploys(sim, ram_user) -> None:
    ram_user(
        "AliyunECSFullAccess",
        "AliyunVPCFullAccess",
        "AliyunOOSFullAccess",
        "AliyunCloudMonitorReadOnlyAccess",
    )
    result = preflight.check_account(REGION)
    assert result.ok
    assert set(result.missing_policies) == {"AliyunBSSReadOnlyAccess"}
    assert "Grant AliyunBSSReadOnlyAccess" in checks.advice(result)


@pytest.mark.django_db
def test_the_command_and_the_page_show_quota_balance_and_warnings(sim, carol) -> None:
    from io import StringIO

    used = used_vcpus()
    sim.set_account(vcpu_quota=used + 2, available_amount=1)
    out = StringIO()
    call_command("check_cloud", "--region", REGION, stdout=out)
    text = out.getvalue()
    assert f"pay-as-you-go vCPU quota: {used} of {used + 2} used, 2 free" in text
    assert "available balance: 1.00 CNY" in text
    assert text.count("warning:") == 2
    client = Client()
    client.force_login(carol)
    page = client.post("/cloud-account/", {"region": REGION}).content.decode()
    assert "Quota Center" in page and "top up" in page and "1.00 CNY" in page


@pytest.mark.django_db
def test_a_deploy_the_quota_cannot_fit_is_refused_before_anything_is_made(
    sim, settings, team, alice
) -> None:
    settings.NESTOPS_DEPLOY_CHECKS_ACCOUNT = True
    sim.set_account(vcpu_quota=used_vcpus() + 2)
    before = sim.state()
    sim.reset_calls()
    with pytest.raises(Refused) as refused:
        deploy(team, alice, sim)
    assert refused.value.code == "cloud_quota_too_small"
    assert "Quota Center" in refused.value.message
    assert not ServiceInstance.objects.exists()
    assert sim.calls().get("Ecs.RunInstances") == 1  # the DryRun probe only
    after = sim.state()
    assert len(after.get("instances", [])) == len(before.get("instances", []))
    assert len(after.get("vpcs", [])) == len(before.get("vpcs", []))


@pytest.mark.django_db
def test_a_low_balance_does_not_refuse_a_deploy(sim, settings, team, alice) -> None:
    settings.NESTOPS_DEPLOY_CHECKS_ACCOUNT = True
    sim.set_account(available_amount=0)
    instance, _operation = deploy(team, alice, sim)
    assert instance.pk
