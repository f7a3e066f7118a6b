"""What other apps' dashboard pages show about money: the instance page's cost card and the
create wizard's estimate. Each function reads the database (and for the estimate, the quote
cache), and turns failures into messages: a page never shows an unknown amount as zero.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from billing import charts, ledger, money, selectors
from billing.api.serializers import offer_errors
from billing.estimates import Configuration, PriceUnavailable, estimate
from billing.forms import UsageForm
from billing.models import Basis
from cloud import CloudError
from instances import catalog
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
                system_disk_category="cloud_essd",
                system_disk_size=200,
                bandwidth_out=10,
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
