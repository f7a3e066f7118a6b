"""Budgets: each threshold notifies once a billing month; at 100 % an optional action save-stops
the team's running pay-as-you-go hosts through operations (source ``budget``).

``check_budgets`` is the ``budgets.check`` job (every minute). The ledger knows what each team
spends per hour, so each run also works out when the next threshold will be crossed
(``next_check_at``) and the job schedules a run for that moment: thresholds fire when they are
crossed, not at the next sweep. The stop is asked ``NESTOPS_BUDGET_STOP_LEAD_SECONDS`` of
spending ahead of the limit, the time a stop takes, so that the hosts are stopped by the time
the limit is reached. Spending is read for
all budgets at once (``selectors.month_to_date``); only a budget with something to fire takes
its row lock, re-reads what already fired and records the new alerts together with their
notifications and stop operations, so that two overlapping runs fire nothing twice.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.requester import Source
from billing import money, selectors
from budgets.models import AlertKind, Budget, BudgetAlert
from instances.models import ChargeType, ServiceInstance, Status, StopMode
from notifications.services import notify
from operations.policy_stop import request_policy_stop

logger = logging.getLogger("nestops.billing")

LIMIT_PERCENT = 100


@dataclass
class BudgetReport:
    checked: int = 0
    fired: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    # The next moment a threshold or the stop comes due at today's rates (None: nothing will).
    next_check_at: datetime | None = None

    def expect(self, moment: datetime | None) -> None:
        if moment is not None and (self.next_check_at is None or moment < self.next_check_at):
            self.next_check_at = moment


@dataclass(frozen=True)
class Spending:
    """A team's spending this month in the budget's currency: so far, and per hour now."""

    spent: Decimal
    rate: Decimal

    def ahead(self, seconds: float) -> Decimal:
        return self.spent + self.rate * Decimal(str(seconds)) / 3600


def stop_lead() -> float:
    return float(settings.NESTOPS_BUDGET_STOP_LEAD_SECONDS)


def percent_used(spent: Decimal, amount: Decimal) -> Decimal:
    return spent * 100 / amount


def check_budgets(*, now: datetime | None = None) -> BudgetReport:
    now = now or timezone.now()
    month = money.month_start(money.billing_day(now))
    report = BudgetReport()
    budgets = list(Budget.objects.filter(enabled=True).select_related("team"))
    if not budgets:
        return report
    team_ids = [b.team_id for b in budgets]
    spent = selectors.month_to_date(team_ids, now=now)
    rates = selectors.spend_rates(team_ids)
    fired = set(
        BudgetAlert.objects.filter(budget__in=budgets, month=month).values_list(
            "budget_id", "kind", "threshold"
        )
    )
    for budget in budgets:
        report.checked += 1
        key = (budget.team_id, budget.currency)
        spending = Spending(spent.get(key, Decimal(0)), rates.get(key, Decimal(0)))
        due, act = _due(budget, spending, fired)
        if due or act:
            _fire(budget, month=month, spending=spending, report=report)
        report.expect(_next_crossing(budget, spending, fired, now))
    return report


def _due(
    budget: Budget, spending: Spending, fired: set[tuple[int, str, int]]
) -> tuple[list[int], bool]:
    percent = percent_used(spending.spent, budget.amount)
    due = [
        t
        for t in sorted(set(budget.thresholds))
        if percent >= t and (budget.pk, AlertKind.THRESHOLD, t) not in fired
    ]
    act = (
        budget.stop_at_limit
        and spending.ahead(stop_lead()) >= budget.amount
        and (budget.pk, AlertKind.ACTION, LIMIT_PERCENT) not in fired
    )
    return due, act


def _next_crossing(
    budget: Budget, spending: Spending, fired: set[tuple[int, str, int]], now: datetime
) -> datetime | None:
    """When, at the present rate, the next threshold or the stop comes due."""
    if spending.rate <= 0:
        return None
    targets = [
        budget.amount * t / 100
        for t in set(budget.thresholds)
        if (budget.pk, AlertKind.THRESHOLD, t) not in fired
    ]
    if budget.stop_at_limit and (budget.pk, AlertKind.ACTION, LIMIT_PERCENT) not in fired:
        targets.append(budget.amount - spending.rate * Decimal(str(stop_lead())) / 3600)
    ahead = [target - spending.spent for target in targets if target > spending.spent]
    if not ahead:
        return None
    # Rounded up to the next whole second: at that moment the ledger's prorated spend (which
    # rounds) has reached the target.
    seconds = math.ceil(float(min(ahead) / spending.rate * 3600)) + 1
    return now + timedelta(seconds=seconds)


def _fire(budget: Budget, *, month: Any, spending: Spending, report: BudgetReport) -> None:
    spent = spending.spent
    with transaction.atomic():
        locked = Budget.objects.select_for_update().select_related("team").get(pk=budget.pk)
        # Under the lock, what fired meanwhile (another run) is visible: never fire twice.
        fired = set(
            BudgetAlert.objects.filter(budget=locked, month=month).values_list(
                "budget_id", "kind", "threshold"
            )
        )
        due, act = _due(locked, spending, fired)
        figures = _figures(locked, month, spent)
        for threshold in due:
            BudgetAlert.objects.create(
                budget=locked,
                month=month,
                kind=AlertKind.THRESHOLD,
                threshold=threshold,
                spent=spent,
                amount=locked.amount,
                currency=locked.currency,
            )
            report.fired.append(f"{locked.team.slug} {threshold}%")
        if due:
            notify(
                team=locked.team,
                event="budget.threshold",
                subject=_("%(team)s has used %(percent)s %% of its budget for %(month)s") % figures,
                message=_(
                    "Team %(team)s has spent %(spent)s %(currency)s of its %(amount)s "
                    "%(currency)s budget for %(month)s (%(percent)s %%). Thresholds reached: "
                    "%(thresholds)s."
                )
                % {**figures, "thresholds": ", ".join(f"{t} %" for t in due)},
                data={**_data(locked, figures), "thresholds": due},
            )
        if act:
            _stop_hosts(locked, month=month, spent=spent, figures=figures, report=report)


def _stop_hosts(
    budget: Budget, *, month: Any, spent: Decimal, figures: dict[str, str], report: BudgetReport
) -> None:
    """Save-stops the team's running pay-as-you-go hosts; subscription hosts and hosts in the
    middle of something are left alone and named in the notification."""
    stopped: list[dict[str, str]] = []
    skipped: list[dict[str, str]] = []
    hosts = ServiceInstance.objects.filter(team=budget.team).exclude(status=Status.DELETED)
    for host in hosts.order_by("created_at"):
        reason = _left_alone(host)
        if reason is not None:
            if reason:
                skipped.append({"instance": host.public_id, "reason": reason})
            continue
        stop = request_policy_stop(instance=host, source=Source.BUDGET, mode=StopMode.STOP_CHARGING)
        if stop.operation is None:
            assert stop.refusal is not None
            skipped.append({"instance": host.public_id, "reason": stop.refusal.message})
            continue
        stopped.append({"instance": host.public_id, "operation": stop.operation.public_id})
        report.stopped.append(host.public_id)
    BudgetAlert.objects.create(
        budget=budget,
        month=month,
        kind=AlertKind.ACTION,
        threshold=LIMIT_PERCENT,
        spent=spent,
        amount=budget.amount,
        currency=budget.currency,
        details={"stopped": stopped, "skipped": skipped},
    )
    names = ", ".join(s["instance"] for s in stopped) or _("none")
    notify(
        team=budget.team,
        event="budget.action",
        subject=_("%(team)s reached its budget: %(count)s pay-as-you-go hosts are being stopped")
        % {"team": figures["team"], "count": len(stopped)},
        message=_(
            "Team %(team)s has spent %(spent)s %(currency)s of its %(amount)s %(currency)s "
            "budget for %(month)s. Stopping with StopCharging: %(names)s. Left alone: "
            "%(skipped)s. Hosts started again this month are not stopped a second time."
        )
        % {
            **figures,
            "names": names,
            "skipped": ", ".join(f"{s['instance']} ({s['reason']})" for s in skipped) or _("none"),
        },
        data={**_data(budget, figures), "stopped": stopped, "skipped": skipped},
    )
    logger.info("budget of %s reached: stopping %s", budget.team.slug, names)


def _left_alone(host: ServiceInstance) -> str | None:
    """Why the budget does not stop ``host`` (empty when there is nothing to stop, so nothing
    to say), or None when it stops it."""
    if host.charge_type != ChargeType.POSTPAID:
        return _("subscription: stopping it saves nothing")
    if host.status == Status.RUNNING:
        return None
    if host.status in (Status.STOPPED, Status.DEPLOY_FAILED):
        return ""
    return _("%(status)s, not running") % {"status": host.status}


def _figures(budget: Budget, month: Any, spent: Decimal) -> dict[str, str]:
    percent = percent_used(spent, budget.amount).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return {
        "team": budget.team.name,
        "month": f"{month:%Y-%m}",
        "spent": money.cents(spent) or "0.00",
        "amount": money.cents(budget.amount) or "0.00",
        "currency": budget.currency,
        "percent": str(percent),
    }


def _data(budget: Budget, figures: dict[str, str]) -> dict[str, Any]:
    return {
        "budget": budget.public_id,
        "team": budget.team.slug,
        "month": figures["month"],
        "spent": figures["spent"],
        "amount": figures["amount"],
        "currency": figures["currency"],
        "percent": figures["percent"],
    }
