"""Reads of budgets: how far the month has used a team's budget."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import Team
from billing import money, selectors
from budgets.models import AlertKind, Budget, BudgetAlert


def budget_status(team: Team, *, now_month: bool = True) -> dict[str, Any] | None:
    budget = Budget.objects.filter(team=team).first()
    if budget is None:
        return None
    now = timezone.now()
    month = money.month_start(money.billing_day(now))
    spent = selectors.month_to_date([team.pk], now=now).get((team.pk, budget.currency), Decimal(0))
    percent = spent * 100 / budget.amount
    fired = list(
        BudgetAlert.objects.filter(budget=budget, month=month).order_by("kind", "threshold")
    )
    return {
        "budget": budget,
        "month": month,
        "spent": spent,
        "percent": percent.quantize(Decimal("0.1")),
        "bar": min(percent, Decimal(100)).quantize(Decimal(1)),
        "over": spent >= budget.amount,
        "fired": [a.threshold for a in fired if a.kind == AlertKind.THRESHOLD],
        "stopped": next((a for a in fired if a.kind == AlertKind.ACTION), None),
        "current": now_month,
    }
