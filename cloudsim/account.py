"""The simulated account's quota and money: ECS ``DescribeAccountAttributes`` (the
pay-as-you-go vCPU quota and its use), the vCPU quota check of ``RunInstances``, and BSS
``QueryAccountBalance`` (business.aliyuncs.com, 2017-12-14).

The quota and the balance are set through ``POST /_sim/account``; ``/_sim/reset`` restores the
defaults. Used vCPUs are computed from the region's pay-as-you-go instances that are not
deleted.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from cloudsim.api import Call, action
from cloudsim.errors import CloudError

if TYPE_CHECKING:
    from cloudsim.simulator import Simulator

DEFAULT_VCPU_QUOTA = 10_000
DEFAULT_BALANCE = "10000.00"
CURRENCY = "CNY"
QUOTA_NAMES = ("max-postpaid-instance-vcpu-count", "used-postpaid-instance-vcpu-count")
KNOWN_NAMES = (
    *QUOTA_NAMES,
    "max-spot-instance-vcpu-count",
    "used-spot-instance-vcpu-count",
    "max-security-groups",
    "instance-network-type",
)


class Account:
    """The account's pay-as-you-go vCPU quota (per region, one default) and balance."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.vcpu_quota = DEFAULT_VCPU_QUOTA
        self.available_amount = DEFAULT_BALANCE
        self.credit_amount = "0.00"

    def to_dict(self) -> dict[str, Any]:
        return {
            "vcpu_quota": self.vcpu_quota,
            "available_amount": self.available_amount,
            "credit_amount": self.credit_amount,
            "currency": CURRENCY,
        }


def used_postpaid_vcpus(sim: Simulator, region_id: str) -> int:
    return sum(
        sim.catalog.instance_types[i.instance_type].cpu
        for i in sim.state.instances.values()
        if i.region_id == region_id
        and i.charge_type == "PostPaid"
        and i.deleted_at is None
        and i.instance_type in sim.catalog.instance_types
    )


def quota_exceeded(sim: Simulator, region_id: str, vcpus: int) -> None:
    """Raises the cloud's answer when ``vcpus`` more pay-as-you-go vCPUs exceed the quota."""
    if used_postpaid_vcpus(sim, region_id) + vcpus > sim.account.vcpu_quota:
        raise CloudError(
            "QuotaExceed.ElasticQuota",
            "The number of vCPUs assigned to the ECS instances has exceeded the quota in the "
            "zone. Please submit a quota increase in Quota Center.",
            403,
        )


def _item(name: str, value: str, region_id: str) -> dict[str, Any]:
    return {
        "AttributeName": name,
        "AttributeValues": {
            "ValueItem": [
                {
                    "Value": value,
                    "Count": 1,
                    "InstanceChargeType": "PostPaid",
                    "ZoneId": "",
                    "ExpiredTime": "",
                    "InstanceType": "",
                    "DiskCategory": "",
                }
            ]
        },
    }


@action("Ecs", "DescribeAccountAttributes", mutates=False)
def describe_account_attributes(sim: Simulator, call: Call) -> dict[str, Any]:
    region_id = call.params.required("RegionId")
    if region_id not in sim.catalog.regions:
        raise CloudError("InvalidRegionId.NotFound", "The specified RegionId does not exist.", 404)
    names = call.params.items("AttributeName", max_items=8) or list(KNOWN_NAMES)
    values = {
        "max-postpaid-instance-vcpu-count": str(sim.account.vcpu_quota),
        "used-postpaid-instance-vcpu-count": str(used_postpaid_vcpus(sim, region_id)),
        "max-spot-instance-vcpu-count": str(sim.account.vcpu_quota),
        "used-spot-instance-vcpu-count": "0",
        "max-security-groups": "100",
        "instance-network-type": "vpc",
    }
    items = [_item(name, values[name], region_id) for name in names if name in values]
    return {"AccountAttributeItems": {"AccountAttributeItem": items}}


@action("Bss", "QueryAccountBalance", mutates=False)
def query_account_balance(sim: Simulator, call: Call) -> dict[str, Any]:
    account = sim.account
    return {
        "Code": "200",
        "Message": "Successful!",
        "Success": True,
        "Data": {
            "AvailableAmount": account.available_amount,
            "AvailableCashAmount": account.available_amount,
            "CreditAmount": account.credit_amount,
            "MybankCreditAmount": "0.00",
            "QuotaLimit": "0.00",
            "Currency": CURRENCY,
        },
    }
