"""``/api/v1/instances/{id}/files/activity/``: the host's file operations under way (a
download's bytes, total, percentage, speed and time left) and those that failed, with the
reason said once, until someone retries or dismisses them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hostfiles.activity import host_file_activity
from hostfiles.api.views import OnHostFiles
from hostfiles.models import HostDisk


class FailureSerializer(serializers.Serializer):
    headline = serializers.CharField()
    advice = serializers.CharField()
    details = serializers.CharField()
    help = serializers.CharField(help_text="The settings that fix it: mirror, tokens or disk.")


class FileActivitySerializer(serializers.Serializer):
    operation = serializers.CharField(source="operation.public_id")
    kind = serializers.CharField(source="operation.kind")
    target = serializers.CharField(help_text="The model file's path or the extension's name.")
    state = serializers.ChoiceField(
        choices=["queued", "starting", "downloading", "verifying", "working", "failed"]
    )
    bytes = serializers.IntegerField(allow_null=True)
    total = serializers.IntegerField(allow_null=True)
    percent = serializers.IntegerField(allow_null=True)
    bytes_per_second = serializers.IntegerField(source="speed", allow_null=True)
    seconds_left = serializers.IntegerField(allow_null=True)
    failure = FailureSerializer(source="explanation", allow_null=True)
    can_retry = serializers.BooleanField()


class DiskSerializer(serializers.Serializer):
    free_bytes = serializers.IntegerField()
    total_bytes = serializers.IntegerField(allow_null=True)
    read_at = serializers.DateTimeField()


class FileActivityListSerializer(serializers.Serializer):
    disk = DiskSerializer(allow_null=True)
    operations = FileActivitySerializer(many=True)


class FileActivityView(OnHostFiles, APIView):
    """What is happening to the host's files, and the free space of its disk."""

    @extend_schema(responses={200: FileActivityListSerializer})
    def get(self, request: Request, instance_id: str) -> Response:
        instance = self.instance()
        answer: dict[str, Any] = {
            "disk": HostDisk.objects.filter(instance=instance).first(),
            "operations": host_file_activity(instance),
        }
        return Response(FileActivityListSerializer(answer).data)
