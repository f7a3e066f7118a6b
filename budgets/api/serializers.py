"""API representation of budgets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, serializers

from accounts.api.fields import MemberTeamField, not_among_yours
from accounts.models import Role, Team
from accounts.permissions import has_role
from billing import money, selectors
from budgets.models import Budget
from nestops.api import StrictModelSerializer


class BudgetSerializer(StrictModelSerializer):
    """A team's monthly budget and how this month stands."""

    id = serializers.CharField(source="public_id", read_only=True)
    team = MemberTeamField()
    amount = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("1000000000000"),
    )
    currency = serializers.CharField(required=False, max_length=3, min_length=3)
    thresholds = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=1000),
        required=False,
        max_length=10,
        help_text=gettext_lazy("Percentages that notify once a month each (default 50, 80, 100)."),
    )
    this_month = serializers.SerializerMethodField()

    class Meta:
        model = Budget
        fields = [
            "id",
            "team",
            "amount",
            "currency",
            "thresholds",
            "stop_at_limit",
            "enabled",
            "this_month",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "this_month", "created_at", "updated_at"]

    def validate_currency(self, value: str) -> str:
        if value.upper() not in money.CLOUD_CURRENCIES:
            raise serializers.ValidationError(
                _("The cloud bills in %(currencies)s.")
                % {"currencies": ", ".join(money.CLOUD_CURRENCIES)}
            )
        return value.upper()

    def validate_thresholds(self, value: list[int]) -> list[int]:
        return sorted(set(value))

    def validate_team(self, team: Team) -> Team:
        user = self.context["request"].user
        if not has_role(user, team, Role.VIEWER):
            raise serializers.ValidationError(not_among_yours(team.slug))
        if self.instance is not None and team != self.instance.team:
            raise serializers.ValidationError(_("A budget cannot move to another team."))
        if not has_role(user, team, Role.ADMIN):
            raise exceptions.PermissionDenied(_("Only team admins manage budgets."))
        existing = Budget.objects.filter(team=team).values_list("public_id", flat=True).first()
        if self.instance is None and existing is not None:
            raise serializers.ValidationError(
                _(
                    "Team %(team)s already has a budget, %(budget)s: change that one "
                    "(PATCH /api/v1/budgets/%(budget)s/)."
                )
                % {"team": team.slug, "budget": existing}
            )
        return team

    def create(self, validated_data: dict[str, Any]) -> Budget:
        validated_data.setdefault("currency", settings.NESTOPS_BILLING_CURRENCY)
        return super().create(validated_data)

    def get_this_month(self, budget: Budget) -> dict[str, Any]:
        month: date = self.context["month"]
        if budget.team_id not in self.context.setdefault("spent_teams", set()):
            # A budget created by this request: its team was not read with the others.
            self.context["spent"].update(
                selectors.month_to_date([budget.team_id], now=self.context.get("now"))
            )
            self.context["spent_teams"].add(budget.team_id)
        spent = self.context["spent"].get((budget.team_id, budget.currency), Decimal(0))
        fired = self.context["fired"].get(budget.pk, [])
        percent = spent * 100 / budget.amount
        return {
            "month": f"{month:%Y-%m}",
            "spent": money.cents(spent),
            "percent": str(percent.quantize(Decimal("0.1"))),
            "remaining": money.cents(budget.amount - spent),
            "thresholds_fired": sorted(t for kind, t in fired if kind == "threshold"),
            "hosts_stopped": any(kind == "action" for kind, _t in fired),
        }
