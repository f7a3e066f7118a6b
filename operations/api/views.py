"""``/api/v1/operations/``: list, detail with steps and log, cancel."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import TeamRolePermission
from nestops.api import ACCEPTED
from operations.api.filters import OperationFilter
from operations.api.serializers import OperationDetailSerializer, OperationSerializer
from operations.models import Operation
from operations.selectors import visible_operations
from operations.services import cancel_operation


class OperationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [TeamRolePermission]
    lookup_field = "public_id"
    filterset_class = OperationFilter
    operator_actions = ("cancel",)

    def get_queryset(self) -> QuerySet[Operation]:
        return visible_operations(self.request.user)

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
