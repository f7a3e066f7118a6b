"""``/api/v1/instances/`` and ``/api/v1/catalog/``."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import TeamRolePermission
from accounts.requester import Requester, Source
from billing.selectors import with_costs
from instances import catalog
from instances.api.filters import InstanceFilter
from instances.api.responses import OfferSerializer, RegionSerializer, ZoneSerializer
from instances.api.serializers import (
    CredentialsSerializer,
    DeleteSerializer,
    InstanceCreateSerializer,
    InstanceSerializer,
    InstanceUpdateSerializer,
    NoBodySerializer,
    ResizeSerializer,
    RestartSerializer,
    StopSerializer,
    WebUILanguageSerializer,
)
from instances.models import ChargeType, ServiceInstance
from instances.services import NewInstance, reveal_credentials, update_instance
from nestops.api import ACCEPTED
from nestops.times import iso_time
from operations.api.serializers import OperationDetailSerializer
from operations.models import LIFECYCLE_KINDS, Kind, Operation
from operations.services import IdempotencyKeyReused, request_deploy, request_operation

IDEMPOTENCY_HEADER = "HTTP_IDEMPOTENCY_KEY"


def idempotency_key(request: Request) -> str:
    key = request.META.get(IDEMPOTENCY_HEADER, "").strip()
    if len(key) > 128:
        raise serializers.ValidationError({"Idempotency-Key": [_("At most 128 characters.")]})
    return key


def active_lifecycle_prefetch() -> Prefetch:
    return Prefetch(
        "operations",
        queryset=Operation.objects.active()
        .filter(kind__in=LIFECYCLE_KINDS)
        .only("id", "public_id", "kind", "status", "created_at", "instance_id", "steps")
        .order_by("created_at"),
        to_attr="active_lifecycle",
    )


class InstanceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Service instances of your teams. Actions answer 202 with the operation they started."""

    permission_classes = [TeamRolePermission]
    lookup_field = "public_id"
    filterset_class = InstanceFilter
    serializer_class = InstanceSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    operator_actions = ("credentials",)

    def get_queryset(self) -> QuerySet[ServiceInstance]:
        instances = (
            ServiceInstance.objects.visible_to(self.request.user)
            .select_related("team", "created_by", "idle_evaluation")
            .prefetch_related(active_lifecycle_prefetch())
            .order_by("-created_at", "-id")
        )
        # Cost so far comes with the rows (subqueries), keeping the list at a constant count.
        return with_costs(instances)

    def get_serializer_context(self) -> dict[str, Any]:
        # One clock for the whole page, so the costs of its rows add up to the same moment.
        return {**super().get_serializer_context(), "now": timezone.now()}

    def source(self) -> str:
        return Source.API

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One instance; with its schedule's next action."""
        from autostop.models import Schedule
        from autostop.schedules import next_action

        instance = self.get_object()
        body = self.get_serializer(instance).data
        schedule = Schedule.objects.filter(instance=instance, enabled=True).first()
        upcoming = next_action(schedule) if schedule is not None else None
        body["schedule"] = (
            {**upcoming, "at": iso_time(upcoming["at"])} if upcoming is not None else None
        )
        return Response(body)

    def filter_queryset(self, queryset: QuerySet[ServiceInstance]) -> QuerySet[ServiceInstance]:
        # Filters shape lists; a deleted instance's own page stays reachable.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    # --- create and update ---------------------------------------------------------------

    @extend_schema(request=InstanceCreateSerializer, responses={201: InstanceSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = idempotency_key(request)
        if key:
            earlier = self._earlier_create(request, key)
            if earlier is not None:
                return earlier
        incoming = InstanceCreateSerializer(data=request.data, context={"request": request})
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        instance, operation = request_deploy(
            spec=NewInstance(**data),
            requester=Requester.of(request, source=self.source(), idempotency_key=key),
            fingerprint=_create_fingerprint(request) if key else "",
        )
        return self._created(instance, operation)

    def _earlier_create(self, request: Request, key: str) -> Response | None:
        earlier = (
            Operation.objects.filter(actor=request.user, idempotency_key=key)
            .select_related("instance")
            .first()
        )
        if earlier is None:
            return None
        if earlier.kind != Kind.DEPLOY or earlier.request_fingerprint != _create_fingerprint(
            request
        ):
            raise IdempotencyKeyReused(earlier)
        return self._created(earlier.instance, earlier, status_code=status.HTTP_200_OK)

    def _created(
        self, instance: ServiceInstance, operation: Operation, status_code: int = 201
    ) -> Response:
        instance = self.get_queryset().get(pk=instance.pk)
        body = {
            **InstanceSerializer(instance, context=self.get_serializer_context()).data,
            "operation": OperationDetailSerializer(
                operation, context=self.get_serializer_context()
            ).data,
        }
        location = reverse("api:instance-detail", kwargs={"public_id": instance.public_id})
        return Response(body, status=status_code, headers={"Location": location})

    @extend_schema(request=InstanceUpdateSerializer, responses=InstanceSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        incoming = InstanceUpdateSerializer(
            data=request.data, context={"request": request, "instance": instance}
        )
        incoming.is_valid(raise_exception=True)
        update_instance(
            instance=instance,
            changes=dict(incoming.validated_data),
            requester=Requester.of(request, source=self.source()),
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=instance.pk)).data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not kwargs.get("partial"):
            return self.partial_update(request, *args, **kwargs)
        return super().update(request, *args, **kwargs)

    # --- actions -------------------------------------------------------------------------

    def _act(self, request: Request, kind: str, params: dict[str, Any]) -> Response:
        instance = self.get_object()
        operation, _created = request_operation(
            instance=instance,
            kind=kind,
            params=params,
            requester=Requester.of(
                request, source=self.source(), idempotency_key=idempotency_key(request)
            ),
        )
        location = reverse("api:operation-detail", kwargs={"public_id": operation.public_id})
        return Response(
            OperationDetailSerializer(operation, context=self.get_serializer_context()).data,
            status=ACCEPTED,
            headers={"Location": location},
        )

    def _validated(self, serializer_class: type, request: Request) -> dict[str, Any]:
        incoming = serializer_class(
            data=request.data, context={"request": request, "instance": self.get_object()}
        )
        incoming.is_valid(raise_exception=True)
        return dict(incoming.validated_data)

    @extend_schema(request=None, responses={202: OperationDetailSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, public_id: str | None = None) -> Response:
        return self._act(request, Kind.START, self._validated(NoBodySerializer, request))

    @extend_schema(request=StopSerializer, responses={202: OperationDetailSerializer})
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, public_id: str | None = None) -> Response:
        return self._act(request, Kind.STOP, self._validated(StopSerializer, request))

    @extend_schema(request=RestartSerializer, responses={202: OperationDetailSerializer})
    @action(detail=True, methods=["post"])
    def restart(self, request: Request, public_id: str | None = None) -> Response:
        return self._act(request, Kind.RESTART, self._validated(RestartSerializer, request))

    @extend_schema(request=ResizeSerializer, responses={202: OperationDetailSerializer})
    @action(detail=True, methods=["post"])
    def resize(self, request: Request, public_id: str | None = None) -> Response:
        return self._act(request, Kind.RESIZE, self._validated(ResizeSerializer, request))

    @extend_schema(request=None, responses={202: OperationDetailSerializer})
    @action(detail=True, methods=["post"])
    def redeploy(self, request: Request, public_id: str | None = None) -> Response:
        """Deploys a host whose deploy failed again, reusing what the first try left."""
        return self._act(request, Kind.DEPLOY, self._validated(NoBodySerializer, request))

    @extend_schema(request=WebUILanguageSerializer, responses={202: OperationDetailSerializer})
    @action(detail=True, methods=["post"], url_path="webui-language")
    def webui_language(self, request: Request, public_id: str | None = None) -> Response:
        """Sets the WebUI's own language (writes its setting and restarts it)."""
        # One language change at a time: host file operations never share a target.
        params = {**self._validated(WebUILanguageSerializer, request), "target": "config.json"}
        return self._act(request, Kind.SET_WEBUI_LANGUAGE, params)

    @extend_schema(request=DeleteSerializer, responses={202: OperationDetailSerializer})
    @action(detail=True, methods=["post"], url_path="delete")
    def delete_instance(self, request: Request, public_id: str | None = None) -> Response:
        return self._act(request, Kind.DELETE, self._validated(DeleteSerializer, request))

    @extend_schema(request=DeleteSerializer, responses={202: OperationDetailSerializer})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.delete_instance(request, kwargs.get("public_id"))

    @extend_schema(request=None, responses=CredentialsSerializer)
    @action(detail=True, methods=["post"])
    def credentials(self, request: Request, public_id: str | None = None) -> Response:
        """The WebUI user and password; every call is recorded as an audit event."""
        instance = self.get_object()
        revealed = reveal_credentials(
            instance=instance, requester=Requester.of(request, source=self.source())
        )
        return Response(revealed, headers={"Cache-Control": "no-store"})


def _create_fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# --- catalog ---------------------------------------------------------------------------------


class RegionsView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: RegionSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(
            [{"region_id": r.region_id, "local_name": r.local_name} for r in catalog.regions()]
        )


def _required(request: Request, name: str) -> str:
    value = request.query_params.get(name, "").strip()
    if not value:
        raise serializers.ValidationError({name: [_("This query parameter is required.")]})
    return value


class ZonesView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("region", str, required=True)],
        responses={200: ZoneSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        region = _required(request, "region")
        if region not in {r.region_id for r in catalog.regions()}:
            raise serializers.ValidationError(
                {"region": [_("Region %(region)s is not offered.") % {"region": region}]}
            )
        return Response(
            [{"zone_id": z.zone_id, "local_name": z.local_name} for z in catalog.zones(region)]
        )


class InstanceTypesView(APIView):
    """GPU instance types offered in a zone, with their stock (sold-out types included)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("region", str, required=True),
            OpenApiParameter("zone", str, description="Every zone of the region when left out."),
            OpenApiParameter("charge_type", str, enum=["PostPaid", "PrePaid"]),
        ],
        responses={200: OfferSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        region = _required(request, "region")
        zone = request.query_params.get("zone", "").strip()
        charge_type = request.query_params.get("charge_type") or ChargeType.POSTPAID
        if charge_type not in ChargeType.values:
            raise serializers.ValidationError({"charge_type": [_("Use PostPaid or PrePaid.")]})
        if region not in {r.region_id for r in catalog.regions()}:
            raise serializers.ValidationError(
                {"region": [_("Region %(region)s is not offered.") % {"region": region}]}
            )
        zones = [z.zone_id for z in catalog.zones(region)]
        if zone and zone not in zones:
            message = _("Zone %(zone)s is not in region %(region)s.")
            raise serializers.ValidationError(
                {"zone": [message % {"zone": zone, "region": region}]}
            )
        offers = [
            o for z in ([zone] if zone else zones) for o in catalog.offers(region, z, charge_type)
        ]
        return Response([o.as_dict() for o in offers])
