"""``/api/v1/budgets/``: a team's monthly budget."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy
from rest_framework import viewsets

from accounts.models import Role, member_team_ids
from accounts.permissions import TeamRolePermission
from billing import money, selectors
from budgets.api.serializers import BudgetSerializer
from budgets.models import Budget, BudgetAlert


class BudgetPermission(TeamRolePermission):
    message = gettext_lazy("Only team admins manage budgets.")


class BudgetViewSet(viewsets.ModelViewSet):
    """Monthly team budgets: members read them, team admins create, change and delete them."""

    permission_classes = [BudgetPermission]
    serializer_class = BudgetSerializer
    lookup_field = "public_id"
    action_role = Role.ADMIN
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filterset_fields = ["enabled"]

    def get_queryset(self) -> QuerySet[Budget]:
        budgets = Budget.objects.select_related("team").order_by("team__name")
        team_ids = member_team_ids(self.request.user)
        if team_ids is None:
            return budgets
        return budgets.filter(team_id__in=team_ids)

    def get_serializer_context(self) -> dict[str, Any]:
        # This month's spending for every budget the user sees, in two queries for the page.
        context = super().get_serializer_context()
        now = timezone.now()
        month = money.month_start(money.billing_day(now))
        context["month"] = month
        if not self.request.user.is_authenticated:
            context["spent"], context["fired"] = {}, {}
            return context
        budgets = list(self.get_queryset().values_list("pk", "team_id"))
        context["now"] = now
        context["spent_teams"] = {t for _pk, t in budgets}
        context["spent"] = selectors.month_to_date(list(context["spent_teams"]), now=now)
        fired: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for budget_id, kind, threshold in BudgetAlert.objects.filter(
            budget_id__in=[pk for pk, _t in budgets], month=month
        ).values_list("budget_id", "kind", "threshold"):
            fired[budget_id].append((kind, threshold))
        context["fired"] = fired
        return context

    def perform_create(self, serializer: BudgetSerializer) -> None:
        serializer.save(updated_by=self.request.user)

    def perform_update(self, serializer: BudgetSerializer) -> None:
        serializer.save(updated_by=self.request.user)
