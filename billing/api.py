"""``/api/v1/estimates/``, ``/api/v1/costs/`` and ``/api/v1/budgets/``."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, status, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import money, selectors
from billing.estimates import PriceUnavailable, estimate
from billing.models import Budget, BudgetAlert
from billing.renderers import CSVRenderer
from billing.serializers import BudgetSerializer, CostQuerySerializer, EstimateSerializer
from instances import catalog
from instances.models import ServiceInstance
from nestops.api import TeamRolePermission, error_response
from nestops.models import Role, Team, member_team_ids


class EstimateView(APIView):
    """What a host will cost: pay-as-you-go for a usage profile against a subscription."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=EstimateSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        if member_team_ids(request.user) == []:
            raise exceptions.PermissionDenied(_("You need to be a member of a team."))
        incoming = EstimateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        configuration = incoming.configuration()
        stock = catalog.availability(configuration.region, configuration.charge_type)
        try:
            body = estimate(
                configuration,
                incoming.usage(),
                in_stock=stock.get((configuration.zone, configuration.instance_type)),
            )
        except PriceUnavailable as exc:
            return error_response(
                "price_unavailable", exc.message, http_status=status.HTTP_503_SERVICE_UNAVAILABLE
            )
        return Response(body)


class CostsView(APIView):
    """Costs per instance, team, day or month (``group_by``), with what the same hosts would
    have cost left running and the savings; ``?format=csv`` or ``Accept: text/csv`` for CSV."""

    permission_classes = [permissions.IsAuthenticated]
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        parameters=[CostQuerySerializer, OpenApiParameter("format", str, enum=["json", "csv"])],
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        incoming = CostQuerySerializer(data=request.query_params)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        team_ids = member_team_ids(request.user)
        query = selectors.CostQuery(
            since=data["since"],
            until=data["until"],
            team_ids=team_ids,
            team_id=self._team_id(data.get("team"), team_ids),
            instance_id=self._instance_id(data.get("instance"), team_ids),
            region=data.get("region", ""),
            charge_type=data.get("charge_type", ""),
        )
        report = selectors.cost_report(query, data["group_by"])
        body = {
            "since": data["since"].isoformat(),
            "until": data["until"].isoformat(),
            "time_zone": money.billing_zone().key,
            "group_by": data["group_by"],
            "columns": report.columns(data["group_by"]),
            "results": [line.as_row() for line in report.lines],
            "totals": [line.as_row() for line in report.totals],
        }
        headers = {}
        if isinstance(request.accepted_renderer, CSVRenderer):
            name = f"nestops-costs-{body['since']}-{body['until']}.csv"
            headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return Response(body, headers=headers)

    def handle_exception(self, exc: Exception) -> Response:
        # Errors are JSON even when CSV was asked for: a spreadsheet of an error helps no one.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    def _team_id(self, slug: str | None, team_ids: list[int] | None) -> int | None:
        if not slug:
            return None
        team = Team.objects.filter(slug=slug).first()
        if team is None or (team_ids is not None and team.pk not in team_ids):
            raise exceptions.NotFound(_("No team %(team)s among yours.") % {"team": slug})
        return team.pk

    def _instance_id(self, public_id: str | None, team_ids: list[int] | None) -> int | None:
        if not public_id:
            return None
        found = ServiceInstance.objects.filter(public_id=public_id)
        if team_ids is not None:
            found = found.filter(team_id__in=team_ids)
        pk = found.values_list("pk", flat=True).first()
        if pk is None:
            raise exceptions.NotFound(
                _("No instance %(instance)s among yours.") % {"instance": public_id}
            )
        return pk


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
