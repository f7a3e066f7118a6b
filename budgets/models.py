"""A team's monthly budget and the alerts it fired."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from billing.models import MONEY
from nestops.ids import new_public_id


def new_budget_id() -> str:
    return new_public_id("bg")


def default_thresholds() -> list[int]:
    return [50, 80, 100]


class Budget(models.Model):
    """A team's monthly budget: thresholds (percent) that notify once a month each, and an
    optional action when the budget is used up (save-stop the team's pay-as-you-go hosts).

    Spending is counted in the budget's currency only; amounts in another currency are never
    added to it.
    """

    public_id = models.CharField(
        _("id"), max_length=16, unique=True, default=new_budget_id, editable=False
    )
    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="budget")
    amount = models.DecimalField(
        _("monthly amount"),
        max_digits=16,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    currency = models.CharField(_("currency"), max_length=3)
    thresholds = models.JSONField(_("thresholds (%)"), default=default_thresholds)
    stop_at_limit = models.BooleanField(
        _("save-stop pay-as-you-go hosts at 100 %"),
        default=False,
        help_text=_(
            "When the month's spending reaches the budget, stop the team's running "
            "pay-as-you-go hosts with StopCharging. Subscription hosts are left alone: stopping "
            "them saves nothing."
        ),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        db_table = "billing_budget"
        ordering = ["team__name"]
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")

    def __str__(self) -> str:
        return f"{self.team}: {self.amount} {self.currency} a month"


class AlertKind(models.TextChoices):
    THRESHOLD = "threshold", _("Threshold reached")
    ACTION = "action", _("Hosts stopped")


class BudgetAlert(models.Model):
    """A threshold (or the stop action) that fired for a budget in a month.

    The unique constraint is what makes each fire once a month, even when two ``check_budgets``
    runs overlap.
    """

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="alerts")
    month = models.DateField(_("month"))
    kind = models.CharField(_("kind"), max_length=10, choices=AlertKind.choices)
    threshold = models.PositiveSmallIntegerField(_("threshold (%)"))
    spent = models.DecimalField(_("spent"), **MONEY)
    amount = models.DecimalField(_("budget"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("fired"), default=timezone.now)

    class Meta:
        db_table = "billing_budgetalert"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "month", "kind", "threshold"],
                name="budget_alert_once_a_month",
            )
        ]
        verbose_name = _("budget alert")
        verbose_name_plural = _("budget alerts")

    def __str__(self) -> str:
        return f"{self.budget.team} {self.month:%Y-%m} {self.kind} {self.threshold} %"
