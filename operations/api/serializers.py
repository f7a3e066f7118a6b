"""API representations of operations."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from nestops.api import StrictModelSerializer
from operations.handlers import HANDLERS
from operations.models import Operation


class OperationSerializer(StrictModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    instance = serializers.CharField(source="instance.public_id", read_only=True)
    team = serializers.CharField(source="team.slug", read_only=True)
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)
    steps = serializers.SerializerMethodField()
    url = serializers.HyperlinkedIdentityField(
        view_name="api:operation-detail", lookup_field="public_id", lookup_url_kwarg="public_id"
    )

    class Meta:
        model = Operation
        fields = [
            "id",
            "url",
            "instance",
            "team",
            "kind",
            "status",
            "params",
            "steps",
            "error_code",
            "error_message",
            "actor",
            "source",
            "cancel_requested",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "next_attempt_at",
            "deadline_at",
        ]
        read_only_fields = fields

    def get_steps(self, operation: Operation) -> list[dict[str, Any]]:
        handler = HANDLERS.get(operation.kind)
        return [
            {**step, "title": handler.title(step["name"]) if handler else step["name"]}
            for step in operation.steps
        ]


class OperationDetailSerializer(OperationSerializer):
    class Meta(OperationSerializer.Meta):
        fields = [*OperationSerializer.Meta.fields, "log"]
        read_only_fields = fields
