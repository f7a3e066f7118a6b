"""The dashboard's costs page: the team's costs (a daily chart per instance, the month's
figures, CSV exports) and the state of its budget.

Also what other apps' pages show about money: the instance page's cost card and the deploy
wizard's estimate.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.preferences import current_team
from billing import charts, ledger, money, selectors
from billing.api.serializers import offer_errors
from billing.estimates import Configuration, PriceUnavailable, estimate
from billing.forms import UsageForm
from billing.models import Basis
from budgets.selectors import budget_status
from cloud import CloudError
from instances import catalog
from instances.forms import disk_and_bandwidth
from instances.models import ChargeType, ServiceInstance

CHART_DAYS = 30


def instance_card(instance: ServiceInstance) -> dict[str, Any]:
    """Cost so far, savings, the rates running and save-stopped, and a chart of the last 30
    billing days of one instance."""
    annotated = selectors.with_costs(ServiceInstance.objects.filter(pk=instance.pk)).first()
    cost = selectors.instance_cost(annotated) if annotated is not None else None
    today = money.billing_day(timezone.now())
    report = selectors.cost_report(
        selectors.CostQuery(
            since=today - timedelta(days=CHART_DAYS - 1), until=today, instance_id=instance.pk
        ),
        ["day"],
    )
    days = [today - timedelta(days=CHART_DAYS - 1 - n) for n in range(CHART_DAYS)]
    svgs = []
    for currency in sorted({line.currency for line in report.lines if line.currency}):
        chart = charts.daily_chart(
            days,
            currency,
            {
                instance.name: {
                    line.key["day"]: line.cost for line in report.lines if line.currency == currency
                }
            },
        )
        svgs.append(
            charts.render_svg(
                chart,
                title=_("Daily cost of %(name)s, last %(days)s days (%(currency)s)")
                % {"name": instance.name, "days": CHART_DAYS, "currency": currency},
            )
        )
    running = stopped = None
    if not instance.is_prepaid:
        running = ledger.rate_for(instance, Basis.FULL)
        stopped = ledger.rate_for(instance, Basis.STOPPED)
    return {
        "cost": cost,
        "charts": svgs,
        "days": [line for line in report.lines if line.cost or line.unpriced_seconds],
        "running_rate": running,
        "stopped_rate": stopped,
    }


def wizard_estimate(data: Any) -> dict[str, Any]:
    """The estimate for the wizard's choices and usage profile, or the reason there is none."""
    values = {"usage": "hours", "hours_per_day": "8", "days_per_week": "5"}
    values.update({k: data.get(k) for k in values if data.get(k) is not None})
    form = UsageForm(values)
    found: dict[str, Any] = {"usage_form": form, "estimate": None, "error": ""}
    region, zone, instance_type = data.get("region"), data.get("zone"), data.get("instance_type")
    if not (region and zone and instance_type) or not form.is_valid():
        return found
    charge_type = data.get("charge_type") or ChargeType.POSTPAID
    try:
        period = int(data.get("period") or 1)
    except ValueError:
        period = 1
    try:
        if offer_errors(region, zone, instance_type):
            return found  # the wizard's own checks say what is wrong
        stock = catalog.availability(region, charge_type)
        found["estimate"] = estimate(
            Configuration(
                region=region,
                zone=zone,
                instance_type=instance_type,
                **disk_and_bandwidth(data),
                charge_type=charge_type,
                period=period,
                period_unit="Month",
            ),
            form.profile(),
            in_stock=stock.get((zone, instance_type)),
        )
    except PriceUnavailable as exc:
        found["error"] = exc.message
    except CloudError as exc:
        found["error"] = _("The cloud did not answer (%(code)s): no estimate for now.") % {
            "code": exc.code
        }
    return found


def _month(request: HttpRequest) -> date:
    """The billing month asked for (``?month=2026-11``), this one by default."""
    today = money.billing_day(timezone.now())
    try:
        year, month = (int(part) for part in request.GET.get("month", "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return money.month_start(today)


def _instance_lines(lines: list[selectors.CostLine]) -> list[selectors.CostLine]:
    """Per-instance-and-day lines summed per instance (one report serves table and chart)."""
    found: dict[tuple[str, str], selectors.CostLine] = {}
    for line in lines:
        key = {k: v for k, v in line.key.items() if k != "day"}
        total = found.setdefault(
            (key["instance"], line.currency), selectors.CostLine(key=key, currency=line.currency)
        )
        total.cost += line.cost
        total.running_cost += line.running_cost
        total.seconds += line.seconds
        total.estimated = total.estimated or line.estimated
        total.unpriced_seconds += line.unpriced_seconds
    return sorted(found.values(), key=lambda x: (x.currency, -x.cost, x.key["instance_name"]))


@login_required
def costs(request: HttpRequest) -> HttpResponse:
    team = current_team(request)
    month = _month(request)
    today = money.billing_day(timezone.now())
    last = min(money.next_month(month) - timedelta(days=1), today)
    context: dict[str, Any] = {
        "month": month,
        "previous_month": money.month_start(month - timedelta(days=1)),
        "next_month": money.next_month(month) if money.next_month(month) <= today else None,
        "time_zone": money.billing_zone().key,
    }
    if team is None or last < month:
        return render(request, "billing/costs.html", {**context, "lines": [], "charts": []})
    query = selectors.CostQuery(since=month, until=last, team_ids=[team.pk])
    report = selectors.cost_report(query, ["instance", "day"])
    lines = _instance_lines(report.lines)
    days = [month + timedelta(days=n) for n in range((last - month).days + 1)]
    names = _labels(lines)
    svgs = []
    for currency in sorted({line.currency for line in report.lines if line.currency}):
        per_host: dict[str, dict[date, Decimal]] = defaultdict(dict)
        for line in report.lines:
            if line.currency == currency and line.cost:
                per_host[names[line.key["instance"]]][line.key["day"]] = line.cost
        chart = charts.daily_chart(days, currency, per_host)
        svgs.append(
            {
                "svg": charts.render_svg(
                    chart,
                    title=_("Daily cost per instance, %(month)s (%(currency)s)")
                    % {"month": f"{month:%Y-%m}", "currency": currency},
                ),
                "legend": chart.legend,
                "currency": currency,
            }
        )
    params = {"since": month.isoformat(), "until": last.isoformat(), "team": team.slug}
    csv_url = reverse("api:costs")
    context.update(
        {
            "lines": lines,
            "names": names,
            "totals": report.totals,
            "charts": svgs,
            "csv_instances": f"{csv_url}?{urlencode({**params, 'format': 'csv'})}",
            "csv_days": f"{csv_url}?"
            + urlencode({**params, "group_by": "instance,day", "format": "csv"}),
            "budget": budget_status(team, now_month=month == money.month_start(today)),
        }
    )
    return render(request, "billing/costs.html", context)


def _labels(lines: list[selectors.CostLine]) -> dict[str, str]:
    """Chart labels: instance names, with the id when two hosts share a name (a deleted one)."""
    names: dict[str, str] = {}
    counts: dict[str, int] = defaultdict(int)
    for line in lines:
        counts[line.key["instance_name"]] += 1
    for line in lines:
        name = line.key["instance_name"]
        names[line.key["instance"]] = (
            f"{name} ({line.key['instance']})" if counts[name] > 1 else name
        )
    return names
