"""The cloud account's check: which credentials nestops uses and whether they may call what it
needs, remembered for a while so that every deploy can refuse early instead of failing halfway.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from cloud import CloudError, account, preflight
from nestops.errors import Refused

CACHE_SECONDS = 600


def _key(region: str) -> str:
    return f"cloudaccount:check:{settings.NESTOPS_CLOUD}:{region}"


def check(*, region: str, fresh: bool = False) -> preflight.AccountCheck:
    """The account check for ``region``; a cached one unless ``fresh``."""
    if not fresh:
        found = cache.get(_key(region))
        if isinstance(found, preflight.AccountCheck):
            return found
    result = preflight.check_account(region)
    cache.set(_key(region), result, CACHE_SECONDS)
    return result


def advice(result: preflight.AccountCheck) -> str:
    """What to grant, policy by policy, with the actions that were denied."""
    if not result.credentials_valid:
        code = result.missing[-1].code if result.missing else ""
        return _(
            "The cloud refuses the credentials themselves (%(code)s): check the access key "
            "of %(source)s."
        ) % {"code": code, "source": result.credential_source}
    lines = [
        _("Grant %(policy)s to the RAM user or role (denied: %(actions)s).")
        % {"policy": policy, "actions": ", ".join(actions)}
        for policy, actions in result.missing_policies.items()
    ]
    return " ".join(lines)


def require_permissions(*, region: str) -> None:
    """Refuses a deploy in ``region`` when the account check found missing permissions."""
    if not settings.NESTOPS_DEPLOY_CHECKS_ACCOUNT:
        return
    result = check(region=region)
    if result.ok:
        return
    raise Refused(
        "cloud_permissions_missing",
        _("This cloud account may not deploy yet. %(advice)s") % {"advice": advice(result)},
        {"missing": result.missing_policies, "credential_source": result.credential_source},
    )


def warnings(result: preflight.AccountCheck) -> list[str]:
    """The quota and balance warnings, with advice; empty when both are fine or unknown."""
    found = []
    small, quota, balance = result.smallest, result.quota, result.balance
    if quota is not None and small is not None and quota.free_vcpus < small.vcpus:
        found.append(
            _(
                "The pay-as-you-go vCPU quota of %(region)s (%(used)s of %(max)s used) cannot fit "
                "one host of the smallest GPU type %(type)s (%(vcpus)s vCPUs): ask for a higher "
                "quota in Quota Center (ECS, pay-as-you-go vCPUs) or stop other pay-as-you-go "
                "instances."
            )
            % {
                "region": quota.region,
                "used": quota.used_vcpus,
                "max": quota.max_vcpus,
                "type": small.instance_type,
                "vcpus": small.vcpus,
            }
        )
    hours = settings.NESTOPS_BALANCE_WARNING_HOURS
    if balance is not None and small is not None and small.hourly is not None and hours > 0:
        needed = small.hourly * hours
        if balance.available < needed:
            found.append(
                _(
                    "The account's available balance (%(available)s %(currency)s) does not "
                    "cover %(hours)s hours of the cheapest host (%(type)s at %(hourly)s "
                    "%(currency)s an hour): top up the account. Alibaba Cloud stops "
                    "pay-as-you-go instances of an account with overdue payments."
                )
                % {
                    "available": balance.available,
                    "currency": balance.currency,
                    "hours": hours,
                    "type": small.instance_type,
                    "hourly": small.hourly,
                }
            )
    return found


def require_quota(*, region: str, instance_type: str, charge_type: str) -> None:
    """Refuses a pay-as-you-go deploy whose host does not fit the account's free vCPU quota.

    The quota is read fresh; when it cannot be read the deploy goes on (the cloud refuses the
    launch itself)."""
    if not settings.NESTOPS_DEPLOY_CHECKS_ACCOUNT or charge_type != "PostPaid":
        return
    vcpus = check(region=region).gpu_vcpus.get(instance_type)
    if vcpus is None:
        return
    try:
        quota = account.postpaid_vcpu_quota(region)
    except CloudError:
        return
    if quota.free_vcpus >= vcpus:
        return
    raise Refused(
        "cloud_quota_too_small",
        _(
            "The pay-as-you-go vCPU quota of %(region)s has %(free)s vCPUs free (%(used)s of "
            "%(max)s used); %(type)s needs %(vcpus)s. Ask for a higher quota in Quota Center "
            "(ECS, pay-as-you-go vCPUs) or stop other pay-as-you-go instances."
        )
        % {
            "region": region,
            "free": quota.free_vcpus,
            "used": quota.used_vcpus,
            "max": quota.max_vcpus,
            "type": instance_type,
            "vcpus": vcpus,
        },
        {"max_vcpus": quota.max_vcpus, "used_vcpus": quota.used_vcpus, "needed_vcpus": vcpus},
    )
