"""``/api/v1/images/`` (the images nestops built) and ``/api/v1/image-builds/``."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import require_cloud_account_role
from accounts.requester import Requester, Source
from images import services
from images.api.serializers import (
    ImageBuildRequestSerializer,
    ImageBuildSerializer,
    WebUIImageSerializer,
)
from images.models import ImageBuild, WebUIImage


class WebUIImageViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The WebUI images of the cloud account: every signed-in user reads them (deploys use
    them); an admin of a team deletes one."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = WebUIImageSerializer
    lookup_field = "cloud_image_id"
    filterset_fields = ["template", "region", "status"]

    def get_queryset(self) -> QuerySet[WebUIImage]:
        return WebUIImage.objects.all()

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        require_cloud_account_role(request.user)
        image = self.get_object()
        services.delete_image(image=image, requester=Requester.of(request, source=Source.API))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImageBuildViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Image builds: read by every signed-in user, requested by an admin of a team."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = ImageBuildSerializer
    lookup_field = "public_id"
    filterset_fields = ["template", "region", "status"]

    def get_queryset(self) -> QuerySet[ImageBuild]:
        return ImageBuild.objects.prefetch_related("images")

    @extend_schema(request=ImageBuildRequestSerializer, responses={202: ImageBuildSerializer})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        require_cloud_account_role(request.user)
        given = ImageBuildRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        build = services.request_build(
            **given.validated_data, requester=Requester.of(request, source=Source.API)
        )
        return Response(ImageBuildSerializer(build).data, status=status.HTTP_202_ACCEPTED)
