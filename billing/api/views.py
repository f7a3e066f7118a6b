"""``/api/v1/estimates/``, ``/api/v1/costs/`` and ``/api/v1/budgets/``."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Team, member_team_ids
from billing import money, selectors
from billing.api.responses import CostsResponseSerializer, EstimateResponseSerializer
from billing.api.serializers import CostQuerySerializer, EstimateSerializer
from billing.estimates import PriceUnavailable, estimate
from billing.renderers import CSVRenderer
from instances import catalog
from instances.models import ServiceInstance
from nestops.api import error_response


class EstimateView(APIView):
    """What a host will cost: pay-as-you-go for a usage profile against a subscription."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=EstimateSerializer, responses={200: EstimateResponseSerializer})
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
        parameters=[CostQuerySerializer],
        responses={200: CostsResponseSerializer},
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
