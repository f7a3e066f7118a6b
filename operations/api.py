"""``/api/v1/operations/``: list, detail with steps and log, cancel."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import TeamRolePermission
from accounts.requester import Source
from nestops.api import ACCEPTED
from operations.models import Kind, Operation, OperationStatus
from operations.serializers import OperationDetailSerializer, OperationSerializer
from operations.services import cancel_operation


class OperationFilter(django_filters.FilterSet):
    instance = django_filters.CharFilter(field_name="instance__public_id")
    status = django_filters.MultipleChoiceFilter(choices=OperationStatus.choices)
    kind = django_filters.MultipleChoiceFilter(choices=Kind.choices)
    source = django_filters.MultipleChoiceFilter(choices=Source.choices)
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    team = django_filters.CharFilter(field_name="team__slug")

    class Meta:
        model = Operation
        fields = ["instance", "status", "kind", "source", "since", "until", "team"]


class OperationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [TeamRolePermission]
    lookup_field = "public_id"
    filterset_class = OperationFilter
    operator_actions = ("cancel",)

    def get_queryset(self) -> QuerySet[Operation]:
        return (
            Operation.objects.visible_to(self.request.user)
            .select_related("instance", "team", "actor")
            .defer("log")
            .order_by("-created_at")
        )

    def get_serializer_class(self) -> type[OperationSerializer]:
        return (
            OperationDetailSerializer
            if self.action in ("retrieve", "cancel")
            else OperationSerializer
        )

    def get_object(self) -> Operation:
        operation = super().get_object()
        if self.action in ("retrieve", "cancel"):
            operation.refresh_from_db(fields=["log"])
        return operation

    @extend_schema(request=None, responses={202: OperationDetailSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, public_id: str | None = None) -> Response:
        operation = cancel_operation(operation=self.get_object(), actor=request.user)
        return Response(
            OperationDetailSerializer(operation, context=self.get_serializer_context()).data,
            status=ACCEPTED,
        )
