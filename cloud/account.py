"""The account's pay-as-you-go vCPU quota (ECS ``DescribeAccountAttributes``) and its balance
(BSS OpenAPI ``QueryAccountBalance``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from cloud.clients import BSS, ECS, call, request_model

MAX_VCPUS = "max-postpaid-instance-vcpu-count"
USED_VCPUS = "used-postpaid-instance-vcpu-count"


@dataclass(frozen=True)
class VcpuQuota:
    """Pay-as-you-go vCPUs the account may run in a region, and how many it runs."""

    region: str
    max_vcpus: int
    used_vcpus: int

    @property
    def free_vcpus(self) -> int:
        return max(0, self.max_vcpus - self.used_vcpus)


@dataclass(frozen=True)
class Balance:
    available: Decimal
    credit: Decimal
    currency: str


def _items(value: Any, key: str) -> list[dict[str, Any]]:
    found = (value or {}).get(key) if isinstance(value, dict) else None
    return [item for item in found or [] if isinstance(item, dict)]


def _total(attribute: dict[str, Any]) -> int:
    """The sum of an attribute's pay-as-you-go values (one per zone or one for the region)."""
    total = 0
    for item in _items(attribute.get("AttributeValues"), "ValueItem"):
        if item.get("InstanceChargeType") not in (None, "", "PostPaid"):
            continue
        try:
            total += int(str(item.get("Value") or "0"))
        except ValueError:
            continue
    return total


def postpaid_vcpu_quota(region: str) -> VcpuQuota:
    request = request_model(
        ECS,
        "DescribeAccountAttributesRequest",
        region_id=region,
        attribute_name=[MAX_VCPUS, USED_VCPUS],
    )
    data = call(ECS, region, "DescribeAccountAttributes", request)
    found = {
        a.get("AttributeName"): _total(a)
        for a in _items(data.get("AccountAttributeItems"), "AccountAttributeItem")
    }
    return VcpuQuota(region, found.get(MAX_VCPUS, 0), found.get(USED_VCPUS, 0))


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value).replace(",", "")) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def account_balance(region: str) -> Balance:
    data = call(BSS, region, "QueryAccountBalance", None)
    body = data.get("Data") or {}
    return Balance(
        available=_money(body.get("AvailableAmount")),
        credit=_money(body.get("CreditAmount")),
        currency=str(body.get("Currency") or "CNY"),
    )
