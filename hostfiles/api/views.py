"""``/api/v1/instances/{id}/models/``, ``…/extensions/``, ``…/inventory/refresh/`` and
``/api/v1/teams/{slug}/model-site-tokens/`` and ``…/download-settings/``.

Everything here hangs off an instance the user can see (another team's is a 404): members
read, operators act. Actions answer 202 with the operation they started.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, parsers, permissions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role, Team
from accounts.permissions import TeamRolePermission, has_role
from accounts.requester import Requester, Source
from hostfiles import services as host_files
from hostfiles.api.filters import ModelFileFilter
from hostfiles.api.serializers import (
    DownloadSerializer,
    DownloadSettingsSerializer,
    ExtensionInstallSerializer,
    ExtensionRemoveSerializer,
    ExtensionSerializer,
    ExtensionUpdateSerializer,
    ModelFileSerializer,
    PreviewSerializer,
    SourceTokenSerializer,
    download_settings_status,
    token_status,
)
from hostfiles.models import Extension, ModelFile, SourceToken, TokenProvider
from hostfiles.selectors import download_defaults, extensions_on, model_files_on
from instances.api.base import OnInstance
from instances.api.views import idempotency_key
from nestops.api import ACCEPTED
from operations.api.serializers import OperationDetailSerializer
from operations.models import Operation


def accepted(operation: Operation, context: dict[str, Any]) -> Response:
    location = reverse("api:operation-detail", kwargs={"public_id": operation.public_id})
    return Response(
        OperationDetailSerializer(operation, context=context).data,
        status=ACCEPTED,
        headers={"Location": location},
    )


class OnHostFiles(OnInstance):
    """Views of the files on a host (the URL names the instance ``instance_id``)."""

    instance_url_kwarg = "instance_id"

    def asked_by(self, request: Request) -> dict[str, Requester]:
        key = idempotency_key(request)
        return {"requester": Requester.of(request, source=Source.API, idempotency_key=key)}


# --- model files -----------------------------------------------------------------------------


class ModelFileViewSet(
    OnHostFiles, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The model files on a host. ``POST`` downloads one, ``DELETE`` deletes one."""

    serializer_class = ModelFileSerializer
    filterset_class = ModelFileFilter
    # JSON for downloads, multipart for preview uploads.
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]
    lookup_field = "public_id"
    lookup_url_kwarg = "model_id"

    def get_queryset(self) -> QuerySet[ModelFile]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no instance
            return ModelFile.objects.none()
        return model_files_on(self.instance())

    def get_object(self) -> ModelFile:
        # Roles are checked on the instance (get_queryset); the file only has to belong to it.
        return get_object_or_404(self.get_queryset(), public_id=self.kwargs["model_id"])

    @extend_schema(request=DownloadSerializer, responses={202: OperationDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.instance()
        incoming = DownloadSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        operation, _created = host_files.request_download(
            instance=instance, **incoming.validated_data, **self.asked_by(request)
        )
        return accepted(operation, self.get_serializer_context())

    @extend_schema(request=None, responses={202: OperationDetailSerializer})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        operation, _created = host_files.request_model_delete(
            model_file=self.get_object(), **self.asked_by(request)
        )
        return accepted(operation, self.get_serializer_context())

    @extend_schema(request=PreviewSerializer, responses={202: OperationDetailSerializer})
    def preview(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Uploads an image (multipart field ``image``) as the model's preview."""
        model_file = self.get_object()
        incoming = PreviewSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        operation, _created = host_files.request_preview(
            model_file=model_file, png=incoming.validated_data["image"], **self.asked_by(request)
        )
        return accepted(operation, self.get_serializer_context())

    @extend_schema(
        responses={(200, "image/png"): OpenApiTypes.BINARY, 304: None, 404: None},
    )
    def thumbnail(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """The model's preview as a small PNG (404 when there is none). Its URL in
        ``thumbnail_url`` carries the thumbnail's version, so clients may cache it long."""
        model_file = self.get_object()
        if not model_file.thumbnail_etag:
            raise Http404
        etag = f'"{model_file.thumbnail_etag}"'
        headers = {
            "ETag": etag,
            # Team-authorised: private caches only; a new thumbnail gets a new URL.
            "Cache-Control": "private, max-age=86400",
            "X-Content-Type-Options": "nosniff",
        }
        if request.headers.get("If-None-Match") == etag:
            return HttpResponse(status=304, headers=headers)
        return HttpResponse(
            bytes(model_file.preview_thumbnail), content_type="image/png", headers=headers
        )


# --- extensions ------------------------------------------------------------------------------


class ExtensionViewSet(
    OnHostFiles, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The extensions on a host: ``POST`` installs, ``PATCH`` or ``POST …/update/`` updates,
    ``DELETE`` removes. The WebUI restarts afterwards unless ``restart_webui`` is false."""

    serializer_class = ExtensionSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "extension_id"
    filterset_fields = ["name"]

    def get_queryset(self) -> QuerySet[Extension]:
        if getattr(self, "swagger_fake_view", False):
            return Extension.objects.none()
        return extensions_on(self.instance())

    def get_object(self) -> Extension:
        return get_object_or_404(self.get_queryset(), public_id=self.kwargs["extension_id"])

    @extend_schema(request=ExtensionInstallSerializer, responses={202: OperationDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.instance()
        incoming = ExtensionInstallSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        operation, _created = host_files.request_extension_install(
            instance=instance, **incoming.validated_data, **self.asked_by(request)
        )
        return accepted(operation, self.get_serializer_context())

    @extend_schema(request=ExtensionUpdateSerializer, responses={202: OperationDetailSerializer})
    def update_extension(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        extension = self.get_object()
        incoming = ExtensionUpdateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        operation, _created = host_files.request_extension_update(
            extension=extension,
            ref=incoming.validated_data.get("ref"),
            restart_webui=incoming.validated_data["restart_webui"],
            **self.asked_by(request),
        )
        return accepted(operation, self.get_serializer_context())

    @extend_schema(request=ExtensionRemoveSerializer, responses={202: OperationDetailSerializer})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        extension = self.get_object()
        incoming = ExtensionRemoveSerializer(data=request.data or request.query_params)
        incoming.is_valid(raise_exception=True)
        operation, _created = host_files.request_extension_remove(
            extension=extension,
            restart_webui=incoming.validated_data["restart_webui"],
            **self.asked_by(request),
        )
        return accepted(operation, self.get_serializer_context())


# --- inventory -------------------------------------------------------------------------------


class InventoryRefreshView(OnHostFiles, APIView):
    """Lists the files really on the host and replaces the model files and extensions."""

    @extend_schema(request=None, responses={202: OperationDetailSerializer})
    def post(self, request: Request, instance_id: str) -> Response:
        operation, _created = host_files.request_inventory_refresh(
            instance=self.instance(), **self.asked_by(request)
        )
        return accepted(operation, {"request": request})


# --- model site tokens -----------------------------------------------------------------------


def _team(request: Request, slug: str, role: str) -> Team:
    """The team if the user is a member (else 404) whose role allows ``role`` (else 403)."""
    team = get_object_or_404(Team, slug=slug)
    if not has_role(request.user, team, Role.VIEWER):
        raise Http404
    if not has_role(request.user, team, role):
        raise exceptions.PermissionDenied(TeamRolePermission.message)
    return team


def _provider(provider: str) -> str:
    if provider not in TokenProvider.values:
        raise Http404
    return provider


def _token_rows(team: Team) -> dict[str, SourceToken]:
    return {
        row.provider: row
        for row in SourceToken.objects.filter(team=team).select_related("updated_by")
    }


class SourceTokenListView(APIView):
    """A team's tokens for Civitai, Hugging Face and ModelScope: which are set, by whom, when.
    The tokens themselves are never returned."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: SourceTokenSerializer(many=True)})
    def get(self, request: Request, slug: str) -> Response:
        rows = _token_rows(_team(request, slug, Role.VIEWER))
        return Response([token_status(p, rows.get(p)) for p in TokenProvider.values])


class SourceTokenView(APIView):
    """One model site token of a team: members see whether it is set, admins set (``PUT``
    ``{"token": ...}``) and delete it."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: SourceTokenSerializer})
    def get(self, request: Request, slug: str, provider: str) -> Response:
        rows = _token_rows(_team(request, slug, Role.VIEWER))
        return Response(token_status(_provider(provider), rows.get(provider)))

    @extend_schema(request=SourceTokenSerializer, responses={200: SourceTokenSerializer})
    def put(self, request: Request, slug: str, provider: str) -> Response:
        team = _team(request, slug, Role.ADMIN)
        provider = _provider(provider)
        incoming = SourceTokenSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        row = host_files.set_source_token(
            team=team,
            provider=provider,
            token=incoming.validated_data["token"],
            requester=Requester.of(request, source=Source.API),
        )
        return Response(token_status(provider, row))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, slug: str, provider: str) -> Response:
        host_files.delete_source_token(
            team=_team(request, slug, Role.ADMIN),
            provider=_provider(provider),
            requester=Requester.of(request, source=Source.API),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- download settings -----------------------------------------------------------------------


def _download_settings(team: Team) -> dict[str, Any]:
    return DownloadSettingsSerializer(
        download_settings_status(team.slug, download_defaults(team.pk))
    ).data


class DownloadSettingsView(APIView):
    """A team's download settings (the GitHub mirror, the Hugging Face endpoint, the connections
    per download): members read the team's values, the server's defaults and what applies;
    team admins change them, ``PUT`` all three, ``PATCH`` those it names. Null or an empty
    string puts a setting back to the server's default."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: DownloadSettingsSerializer})
    def get(self, request: Request, slug: str) -> Response:
        return Response(_download_settings(_team(request, slug, Role.VIEWER)))

    @extend_schema(request=DownloadSettingsSerializer, responses={200: DownloadSettingsSerializer})
    def put(self, request: Request, slug: str) -> Response:
        return self._change(request, slug, partial=False)

    @extend_schema(request=DownloadSettingsSerializer, responses={200: DownloadSettingsSerializer})
    def patch(self, request: Request, slug: str) -> Response:
        return self._change(request, slug, partial=True)

    def _change(self, request: Request, slug: str, *, partial: bool) -> Response:
        team = _team(request, slug, Role.ADMIN)
        incoming = DownloadSettingsSerializer(data=request.data, partial=partial)
        incoming.is_valid(raise_exception=True)
        if incoming.validated_data:
            host_files.change_download_settings(
                team=team,
                changes=dict(incoming.validated_data),
                requester=Requester.of(request, source=Source.API),
            )
        return Response(_download_settings(team))
