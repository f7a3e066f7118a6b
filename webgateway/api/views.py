"""``GET /api/v1/instances/{id}/webui-usage/``: who used the WebUI through the gateway."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from instances.api.base import OnInstance
from nestops.api import StrictSerializer
from webgateway.origins import webui_origin
from webgateway.selectors import webui_users


class WebUIUseSerializer(StrictSerializer):
    user = serializers.CharField(source="user.username")
    first_used_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField()
    request_count = serializers.IntegerField(
        help_text="Requests that did work: generations, uploads, queue joins."
    )


class WebUIUsageSerializer(StrictSerializer):
    instance = serializers.CharField()
    webui_url = serializers.CharField()
    users = WebUIUseSerializer(many=True)


class WebUIUsageView(OnInstance, APIView):
    """Per user: first and last use of the instance's WebUI through the gateway, and how many
    requests did work. Any member of the team may read it."""

    @extend_schema(responses={200: WebUIUsageSerializer})
    def get(self, request: Request, public_id: str) -> Response:
        instance = self.instance()
        payload = {
            "instance": instance.public_id,
            "webui_url": webui_origin(instance.public_id) + "/",
            "users": webui_users(instance=instance),
        }
        return Response(WebUIUsageSerializer(payload).data)
