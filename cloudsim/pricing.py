"""List prices of a host: instance type, system disk and bandwidth, per hour or per period.

DescribePrice shows them as separate ``DetailInfo`` lines (``instanceType``, ``systemDisk``,
``bandwidth``); RunInstances reports their total as ``TradePrice``. The only discount is the
yearly one: 12 months charged as ``year_charged_months`` (10).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cloudsim.catalog import Catalog

PERIODS = {"Hour": range(1, 2), "Week": range(1, 5), "Month": range(1, 10), "Year": range(1, 6)}


@dataclass(frozen=True)
class PriceLine:
    resource: str
    original: float
    discount: float
    trade: float


@dataclass
class Quote:
    lines: list[PriceLine]
    currency: str
    rules: list[dict[str, object]] = field(default_factory=list)

    @property
    def original(self) -> float:
        return round(sum(line.original for line in self.lines), 4)

    @property
    def discount(self) -> float:
        return round(sum(line.discount for line in self.lines), 4)

    @property
    def trade(self) -> float:
        return round(sum(line.trade for line in self.lines), 4)


def quote(
    catalog: Catalog,
    *,
    instance_type: str,
    price_unit: str,
    period: int,
    disk_category: str,
    disk_size: int,
    internet_charge_type: str,
    bandwidth_mbps: int,
    amount: int = 1,
) -> Quote:
    """Prices ``amount`` hosts for one ``period`` of ``price_unit`` (Hour, Week, Month, Year).

    The caller has validated every argument against the catalogue.
    """
    prices = catalog.prices
    type_price = prices["instance_types"][instance_type]
    disk_price = prices["system_disk"][disk_category]
    band_price = prices["bandwidth"][internet_charge_type]

    if price_unit == "Hour":
        monthly = False
        factor = float(period)
    elif price_unit == "Week":
        monthly = True
        factor = period * float(prices["week_factor"])
    elif price_unit == "Month":
        monthly = True
        factor = float(period)
    else:  # Year: quoted at the full 12 months, then discounted below
        monthly = True
        factor = 12.0 * period

    raw = {
        "instanceType": type_price["month" if monthly else "hour"],
        "systemDisk": disk_price["gb_month" if monthly else "gb_hour"] * disk_size,
        "bandwidth": band_price["mbps_month" if monthly else "mbps_hour"] * bandwidth_mbps,
    }
    charged_share = 1.0
    rules: list[dict[str, object]] = []
    if price_unit == "Year":
        charged_share = float(prices["year_charged_months"]) / 12.0
        rule = prices["rules"]["year"]
        rules.append({"RuleId": rule["rule_id"], "Description": rule["description"]})
    lines = []
    for resource, unit_price in raw.items():
        original = round(unit_price * factor * amount, 4)
        trade = round(original * charged_share, 4)
        lines.append(PriceLine(resource, original, round(original - trade, 4), trade))
    return Quote(lines=lines, currency=prices["currency"], rules=rules)


def subscription_unit(period: int, period_unit: str) -> tuple[str, int]:
    """How a RunInstances subscription is priced: whole years get the yearly discount."""
    if period_unit == "Month" and period % 12 == 0:
        return "Year", period // 12
    return period_unit, period
