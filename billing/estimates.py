"""What a host will cost before it is launched: pay-as-you-go for a usage profile (save-stopped
outside its hours, the stopped host's cost included) against a subscription, the break-even
hours and a recommendation with the numbers behind it.

Formulas (docs/billing.md): a month is 730 hours; running hours a month = hours a day x days a
week x 365 / 84 (730 when always on); pay-as-you-go a month = running hours x running rate +
(730 - running hours) x stopped rate; subscription a month = the period's price / its months;
break-even hours H solve H x running + (730 - H) x stopped = subscription a month.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from billing import money, quotes
from billing.models import PriceQuote, PriceUnit
from cloud import ecs
from instances.models import ChargeType


class PriceUnavailable(Exception):
    """The cloud gives no price and none was ever stored: an estimate cannot be made."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class UsageProfile:
    """How much a host runs: always on, or hours a day on days a week (save-stopped otherwise)."""

    always_on: bool
    hours_per_day: Decimal
    days_per_week: Decimal

    @property
    def running_hours(self) -> Decimal:
        if self.always_on:
            return money.HOURS_PER_MONTH
        return money.monthly_hours(self.hours_per_day, self.days_per_week)


@dataclass(frozen=True)
class Configuration:
    region: str
    zone: str
    instance_type: str
    system_disk_category: str
    system_disk_size: int
    bandwidth_out: int
    charge_type: str
    period: int
    period_unit: str

    def key(self, charge_type: str) -> quotes.QuoteKey:
        return quotes.key_for(
            region=self.region,
            zone=self.zone,
            instance_type=self.instance_type,
            charge_type=charge_type,
            period=self.period,
            period_unit=self.period_unit,
            system_disk_category=self.system_disk_category,
            system_disk_size=self.system_disk_size,
            bandwidth_out=self.bandwidth_out,
        )


def _freshness(quote: PriceQuote) -> dict[str, Any]:
    return {
        "fetched_at": quote.fetched_at.isoformat().replace("+00:00", "Z")
        if quote.fetched_at
        else None,
        "stale": quote.is_stale(),
        "error": quote.error or None,
    }


def _hours_text(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def estimate(
    configuration: Configuration, usage: UsageProfile, *, in_stock: bool | None
) -> dict[str, Any]:
    """The estimate as the API returns it. Prices come from the quote table, refreshed from the
    cloud when missing or stale; a stale or failed quote is used and said to be so."""
    hourly_quote = quotes.current(configuration.key(ChargeType.POSTPAID))
    hourly = _hourly_prices(configuration, hourly_quote)
    subscription_quote = quotes.current(configuration.key(ChargeType.PREPAID))
    currency = hourly.currency

    running_rate = hourly.total
    stopped_rate = hourly.system_disk
    if settings.NESTOPS_BILL_BANDWIDTH_WHILE_STOPPED:
        stopped_rate += hourly.bandwidth
    running_hours = usage.running_hours
    stopped_hours = money.HOURS_PER_MONTH - running_hours
    running_part = running_hours * running_rate
    stopped_part = stopped_hours * stopped_rate
    payg_monthly = running_part + stopped_part

    subscription = _subscription(subscription_quote, currency)
    sub_monthly: Decimal | None = subscription.pop("_monthly")
    if sub_monthly is None:
        break_even, break_even_note = None, ""
        recommendation = _pay_as_you_go_only(subscription)
    else:
        break_even, break_even_note = _break_even(running_rate, stopped_rate, sub_monthly)
        recommendation = _recommend(
            payg_monthly, sub_monthly, running_hours, break_even, currency, subscription
        )

    return {
        "currency": currency,
        "configuration": _configuration_section(configuration),
        "availability": _availability(configuration, in_stock),
        "hourly": _hourly_section(hourly, running_rate, stopped_rate),
        "usage": _usage_section(usage, stopped_hours),
        "pay_as_you_go": {
            "monthly": money.cents(payg_monthly),
            "running": money.cents(running_part),
            "stopped": money.cents(stopped_part),
            "always_on_monthly": money.cents(money.HOURS_PER_MONTH * running_rate),
        },
        "subscription": subscription,
        "break_even_hours_per_month": _hours_text(break_even) if break_even is not None else None,
        "break_even_note": break_even_note,
        "recommendation": recommendation,
        "prices": {
            "pay_as_you_go": _freshness(hourly_quote),
            "subscription": _freshness(subscription_quote),
        },
    }


def _hourly_prices(configuration: Configuration, quote: PriceQuote) -> quotes.HourlyPrices:
    hourly = quotes.hourly(quote)
    if hourly is None:
        raise PriceUnavailable(
            _("The cloud gave no price for %(type)s in %(zone)s: %(error)s")
            % {
                "type": configuration.instance_type,
                "zone": configuration.zone,
                "error": quote.error or _("no answer"),
            }
        )
    return hourly


def _hourly_section(
    hourly: quotes.HourlyPrices, running_rate: Decimal, stopped_rate: Decimal
) -> dict[str, Any]:
    return {
        "running": money.rate_text(running_rate),
        "instance_type": money.rate_text(hourly.instance),
        "system_disk": money.rate_text(hourly.system_disk),
        "bandwidth": money.rate_text(hourly.bandwidth),
        "stopped": money.rate_text(stopped_rate),
        "stopped_includes_bandwidth": settings.NESTOPS_BILL_BANDWIDTH_WHILE_STOPPED,
    }


def _usage_section(usage: UsageProfile, stopped_hours: Decimal) -> dict[str, Any]:
    return {
        "always_on": usage.always_on,
        "hours_per_day": str(usage.hours_per_day),
        "days_per_week": str(usage.days_per_week),
        "running_hours_per_month": _hours_text(usage.running_hours),
        "stopped_hours_per_month": _hours_text(stopped_hours),
    }


def _configuration_section(configuration: Configuration) -> dict[str, Any]:
    return {
        "region": configuration.region,
        "zone": configuration.zone,
        "instance_type": configuration.instance_type,
        "system_disk_category": configuration.system_disk_category,
        "system_disk_size": configuration.system_disk_size,
        "internet_charge_type": ecs.INTERNET_CHARGE_TYPE,
        "bandwidth_out": configuration.bandwidth_out,
        "charge_type": configuration.charge_type,
        "period": configuration.period,
        "period_unit": configuration.period_unit,
    }


def _break_even(
    running_rate: Decimal, stopped_rate: Decimal, sub_monthly: Decimal
) -> tuple[Decimal | None, str]:
    """The running hours a month above which the subscription is cheaper, and a sentence."""
    if running_rate <= stopped_rate:
        return None, ""
    hours = (sub_monthly - money.HOURS_PER_MONTH * stopped_rate) / (running_rate - stopped_rate)
    if hours >= money.HOURS_PER_MONTH:
        return None, _("A subscription is never cheaper: even always on, pay-as-you-go costs less.")
    if hours <= 0:
        return Decimal(0), _("A subscription is cheaper whatever the hours.")
    return hours, _("Above %(hours)s running hours a month a subscription is cheaper.") % {
        "hours": _hours_text(hours)
    }


def _pay_as_you_go_only(subscription: dict[str, Any]) -> dict[str, Any]:
    return {
        "charge_type": ChargeType.POSTPAID.value,
        "monthly_saving": None,
        "reason": _(
            "The subscription price is not available (%(error)s); pay-as-you-go is the one "
            "price known."
        )
        % {"error": subscription.get("error") or _("no answer")},
    }


def _subscription(quote: PriceQuote, currency: str) -> dict[str, Any]:
    unit, period = quote.price_unit, quote.period
    section: dict[str, Any] = {
        "period": period,
        "period_unit": unit,
        "period_unit_label": str(PriceUnit(unit).label),
        "price": None,
        "list_price": None,
        "discount": None,
        "monthly": None,
        "rules": quote.rules,
        "error": quote.error or None,
        "stopping_saves_money": False,
        "note": _(
            "A subscription is paid for its whole term: stopping the host saves nothing, and a "
            "subscription host cannot be stopped with StopCharging."
        ),
        "_monthly": None,
    }
    if not quote.has_prices or quote.currency != currency:
        # No subscription price, or one in another currency: never compare across currencies.
        if quote.has_prices:
            section["error"] = _("The subscription is priced in %(currency)s.") % {
                "currency": quote.currency
            }
        return section
    months = money.months_in_period(period, unit)
    monthly = quote.trade_price / months
    section.update(
        {
            "price": money.cents(quote.trade_price),
            "list_price": money.cents(quote.original_price),
            "discount": money.cents(quote.discount_price),
            "monthly": money.cents(monthly),
            "_monthly": monthly,
        }
    )
    return section


def _recommend(
    payg: Decimal,
    subscription: Decimal,
    running_hours: Decimal,
    break_even: Decimal | None,
    currency: str,
    section: dict[str, Any],
) -> dict[str, Any]:
    numbers = {
        "hours": _hours_text(running_hours),
        "payg": money.cents(payg),
        "sub": money.cents(subscription),
        "currency": currency,
        "period": section["period"],
        "unit": section["period_unit_label"],
    }
    if payg <= subscription:
        reason = (
            _(
                "At %(hours)s running hours a month, pay-as-you-go with save-stop costs %(payg)s "
                "%(currency)s a month; a subscription (%(period)s %(unit)s) costs %(sub)s "
                "%(currency)s a month."
            )
            % numbers
        )
        charge_type, saving = ChargeType.POSTPAID.value, subscription - payg
    else:
        reason = (
            _(
                "At %(hours)s running hours a month, a subscription (%(period)s %(unit)s) costs "
                "%(sub)s %(currency)s a month; pay-as-you-go with save-stop costs %(payg)s "
                "%(currency)s a month."
            )
            % numbers
        )
        charge_type, saving = ChargeType.PREPAID.value, payg - subscription
    if break_even is not None:
        reason += " " + _("Break-even: %(hours)s running hours a month.") % {
            "hours": _hours_text(break_even)
        }
    return {"charge_type": charge_type, "monthly_saving": money.cents(saving), "reason": reason}


def _availability(configuration: Configuration, in_stock: bool | None) -> dict[str, Any]:
    if in_stock is None:
        return {"in_stock": None, "message": _("Stock could not be checked.")}
    if in_stock:
        return {"in_stock": True, "message": ""}
    return {
        "in_stock": False,
        "message": _(
            "%(type)s is sold out in zone %(zone)s right now: it cannot be launched there until "
            "stock returns. Pick another zone or type, or try again later."
        )
        % {"type": configuration.instance_type, "zone": configuration.zone},
    }
