"""Which credentials the gateway uses and whether they may call every action nestops needs.

Each action is tried the harmless way: a read, a ``DryRun`` (whose success is the cloud's
``DryRunOperation``), or a call on an id that does not exist (its ``NotFound`` answer comes after
the permission check, so it proves the permission without acting). Only a permission answer
(``Forbidden*``, ``NoPermission``) counts as missing; it is mapped to the RAM system policy
Compute Nest's documentation names for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings

from cloud import account
from cloud.clients import BSS, CMS, ECS, OOS, VPC, Product, call, request_model
from cloud.ecs.catalog import describe_instance_types, describe_price
from cloud.errors import CloudError, PermissionDenied, Transient

NO_INSTANCE = "i-nestopspreflight0"
NO_IMAGE = "m-nestopspreflight0"
NO_GROUP = "sg-nestopspreflight0"
NO_VPC = "vpc-nestopspreflight0"
NO_VSWITCH = "vsw-nestopspreflight0"
NO_EXECUTION = "exec-nestopspreflight0"
PROBE_TYPE = "ecs.gn6i-c4g1.xlarge"
BSS_POLICY = "AliyunBSSReadOnlyAccess"
# Policies whose absence only hides a warning (the balance); deploys do not need them.
OPTIONAL_POLICIES = (BSS_POLICY,)
# Codes that say "these credentials are not valid at all", not "this action is not allowed".
CREDENTIAL_CODES = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidSecurityToken")


@dataclass(frozen=True)
class Probe:
    product: Product
    action: str
    policy: str
    fields: dict[str, Any]
    dry_run: bool = False
    regional: bool = True


def probes(region: str) -> list[Probe]:
    """Every action nestops calls, with a harmless way to try it in ``region``."""
    ecs_policy, vpc_policy = "AliyunECSFullAccess", "AliyunVPCFullAccess"
    oos_policy, cms_policy = "AliyunOOSFullAccess", "AliyunCloudMonitorReadOnlyAccess"
    r = {"region_id": region}
    return [
        Probe(ECS, "DescribeRegions", ecs_policy, {}, regional=False),
        Probe(ECS, "DescribeZones", ecs_policy, r),
        Probe(ECS, "DescribeInstanceTypes", ecs_policy, {"instance_types": [PROBE_TYPE]}),
        Probe(ECS, "DescribeAvailableResource", ecs_policy, {**r, "destination_resource": "Zone"}),
        Probe(ECS, "DescribePrice", ecs_policy, {**r, "instance_type": PROBE_TYPE}),
        Probe(ECS, "DescribeInstances", ecs_policy, {**r, "max_results": 10}),
        Probe(ECS, "DescribeImages", ecs_policy, {**r, "page_size": 1}),
        Probe(ECS, "RunInstances", ecs_policy, {**r, "image_id": NO_IMAGE}, dry_run=True),
        Probe(ECS, "StartInstance", ecs_policy, {"instance_id": NO_INSTANCE}, dry_run=True),
        Probe(ECS, "StopInstance", ecs_policy, {"instance_id": NO_INSTANCE}, dry_run=True),
        Probe(ECS, "RebootInstance", ecs_policy, {"instance_id": NO_INSTANCE}, dry_run=True),
        Probe(ECS, "DeleteInstance", ecs_policy, {"instance_id": NO_INSTANCE}, dry_run=True),
        Probe(
            ECS,
            "ModifyInstanceSpec",
            ecs_policy,
            {"instance_id": NO_INSTANCE, "instance_type": PROBE_TYPE},
            dry_run=True,
        ),
        Probe(ECS, "CreateSecurityGroup", ecs_policy, {**r, "vpc_id": NO_VPC}),
        Probe(ECS, "AuthorizeSecurityGroup", ecs_policy, {**r, "security_group_id": NO_GROUP}),
        Probe(ECS, "DeleteSecurityGroup", ecs_policy, {**r, "security_group_id": NO_GROUP}),
        Probe(ECS, "CreateImage", ecs_policy, {**r, "instance_id": NO_INSTANCE}, dry_run=True),
        Probe(
            ECS,
            "CopyImage",
            ecs_policy,
            {**r, "image_id": NO_IMAGE, "destination_region_id": region},
            dry_run=True,
        ),
        Probe(ECS, "DeleteImage", ecs_policy, {**r, "image_id": NO_IMAGE}, dry_run=True),
        Probe(ECS, "DescribeSendFileResults", ecs_policy, {**r, "invoke_id": "t-nestops0"}),
        Probe(VPC, "DescribeVpcs", vpc_policy, {**r, "vpc_id": NO_VPC}),
        Probe(VPC, "DescribeVSwitches", vpc_policy, {**r, "v_switch_id": NO_VSWITCH}),
        Probe(VPC, "CreateVpc", vpc_policy, {**r, "cidr_block": "10.0.0.0/8"}, dry_run=True),
        Probe(VPC, "CreateVSwitch", vpc_policy, {**r, "vpc_id": NO_VPC}),
        Probe(VPC, "DeleteVSwitch", vpc_policy, {**r, "v_switch_id": NO_VSWITCH}, dry_run=True),
        Probe(VPC, "DeleteVpc", vpc_policy, {**r, "vpc_id": NO_VPC}, dry_run=True),
        Probe(OOS, "ListExecutions", oos_policy, {**r, "execution_id": NO_EXECUTION}),
        Probe(OOS, "ListTaskExecutions", oos_policy, {**r, "execution_id": NO_EXECUTION}),
        Probe(OOS, "StartExecution", oos_policy, {**r, "template_name": "nestops-preflight"}),
        Probe(OOS, "CancelExecution", oos_policy, {**r, "execution_id": NO_EXECUTION}),
        Probe(
            CMS,
            "DescribeMetricLast",
            cms_policy,
            {"namespace": "acs_ecs_dashboard", "metric_name": "CPUUtilization"},
        ),
    ]


@dataclass(frozen=True)
class ProbeResult:
    product: str
    action: str
    policy: str
    allowed: bool
    code: str = ""
    message: str = ""


@dataclass(frozen=True)
class Smallest:
    """The GPU type with the fewest vCPUs in the region, and its pay-as-you-go hourly price."""

    instance_type: str
    vcpus: int
    hourly: Decimal | None = None
    currency: str = "CNY"


@dataclass(frozen=True)
class AccountCheck:
    credential_source: str
    region: str
    results: list[ProbeResult]
    credentials_valid: bool = True
    quota: account.VcpuQuota | None = None
    balance: account.Balance | None = None
    smallest: Smallest | None = None
    gpu_vcpus: dict[str, int] = field(default_factory=dict)

    @property
    def missing(self) -> list[ProbeResult]:
        return [r for r in self.results if not r.allowed]

    @property
    def missing_policies(self) -> dict[str, list[str]]:
        """Policy -> the actions it would allow that are denied now."""
        found: dict[str, list[str]] = {}
        for result in self.missing:
            found.setdefault(result.policy, []).append(f"{result.product}:{result.action}")
        return found

    @property
    def ok(self) -> bool:
        """Credentials valid and every action a deploy needs allowed (the balance read is
        optional)."""
        return self.credentials_valid and not [
            r for r in self.missing if r.policy not in OPTIONAL_POLICIES
        ]


def credential_source() -> str:
    """Where the credentials come from: cloudsim's key, or the default chain's provider."""
    if settings.NESTOPS_CLOUD == "sim":
        return (
            f"cloudsim access key {settings.NESTOPS_SIM_ACCESS_KEY_ID} (NESTOPS_SIM_ACCESS_KEY_ID)"
        )
    try:
        from alibabacloud_credentials.client import Client as CredentialClient

        credential = CredentialClient().get_credential()
    except Exception as exc:  # the chain found nothing usable: say so, do not crash the check
        return f"none: the credential chain found no credentials ({type(exc).__name__}: {exc})"
    provider = getattr(credential, "provider_name", "") or getattr(credential, "type", "")
    key_id = getattr(credential, "access_key_id", "") or ""
    shown = f"{key_id[:4]}…{key_id[-3:]}" if len(key_id) > 8 else "unknown key"
    return f"{provider or 'default chain'} ({shown})"


def try_probe(probe: Probe, region: str) -> ProbeResult:
    fields = dict(probe.fields)
    if probe.dry_run:
        fields["dry_run"] = True
    request = request_model(probe.product, f"{probe.action}Request", **fields)
    name = probe.product.name
    try:
        call(probe.product, region, probe.action, request, dry_run=probe.dry_run)
    except PermissionDenied as exc:
        if exc.code.startswith(("Forbidden", "NoPermission")):
            return ProbeResult(name, probe.action, probe.policy, False, exc.code, exc.message)
        if exc.code.startswith(CREDENTIAL_CODES):
            raise
        # Quota or balance answers: the action itself is allowed.
        return ProbeResult(name, probe.action, probe.policy, True, exc.code, exc.message)
    except Transient:
        raise
    except CloudError as exc:
        # NotFound, InvalidParameter...: answered after the permission check.
        return ProbeResult(name, probe.action, probe.policy, True, exc.code)
    return ProbeResult(name, probe.action, probe.policy, True)


def check_account(region: str) -> AccountCheck:
    """Tries every action nestops needs in ``region`` with the configured credentials."""
    source = credential_source()
    results = []
    for probe in probes(region):
        try:
            results.append(try_probe(probe, region))
        except PermissionDenied as exc:
            results.append(
                ProbeResult(
                    probe.product.name, probe.action, probe.policy, False, exc.code, exc.message
                )
            )
            return AccountCheck(source, region, results, credentials_valid=False)
    quota = _read(results, ECS, "DescribeAccountAttributes", "AliyunECSFullAccess", region)
    balance = _read(results, BSS, "QueryAccountBalance", BSS_POLICY, region)
    gpu_vcpus, smallest = _smallest_gpu_type(region)
    return AccountCheck(
        source,
        region,
        results,
        quota=quota,
        balance=balance,
        smallest=smallest,
        gpu_vcpus=gpu_vcpus,
    )


def _read(
    results: list[ProbeResult], product: Product, action: str, policy: str, region: str
) -> Any:
    """Reads the quota or the balance; a denial is recorded as a missing permission."""
    reader = account.postpaid_vcpu_quota if product is ECS else account.account_balance
    try:
        found = reader(region)
    except PermissionDenied as exc:
        allowed = not exc.code.startswith(("Forbidden", "NoPermission"))
        results.append(ProbeResult(product.name, action, policy, allowed, exc.code, exc.message))
        return None
    except Transient:
        raise
    except CloudError as exc:
        results.append(ProbeResult(product.name, action, policy, True, exc.code, exc.message))
        return None
    results.append(ProbeResult(product.name, action, policy, True))
    return found


def _smallest_gpu_type(region: str) -> tuple[dict[str, int], Smallest | None]:
    """vCPUs of every GPU type, and the smallest type with its hourly price (None if the
    price cannot be read)."""
    try:
        types = [t for t in describe_instance_types(region) if t.gpu_amount > 0]
    except CloudError:
        return {}, None
    if not types:
        return {}, None
    vcpus = {t.instance_type: t.cpu for t in types}
    small = min(types, key=lambda t: (t.cpu, t.gpu_amount, t.instance_type))
    try:
        price = describe_price(
            region, zone_id=None, instance_type=small.instance_type, price_unit="Hour"
        )
    except CloudError:
        return vcpus, Smallest(small.instance_type, small.cpu)
    return vcpus, Smallest(small.instance_type, small.cpu, price.trade, price.currency)
