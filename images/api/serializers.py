"""Serializers of the images API: strict input, a serializer for every response."""

from __future__ import annotations

from rest_framework import serializers

from images.models import ImageBuild, Template, WebUIImage
from nestops.api import StrictModelSerializer, StrictSerializer


class WebUIImageSerializer(StrictModelSerializer):
    class Meta:
        model = WebUIImage
        fields = [
            "cloud_image_id",
            "template",
            "region",
            "name",
            "webui_commit",
            "status",
            "created_at",
        ]
        read_only_fields = fields


class ImageBuildSerializer(StrictModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    images = WebUIImageSerializer(many=True, read_only=True)

    class Meta:
        model = ImageBuild
        fields = [
            "id",
            "template",
            "region",
            "base_image_id",
            "copy_regions",
            "status",
            "steps",
            "error_code",
            "error_message",
            "created_at",
            "started_at",
            "finished_at",
            "images",
        ]
        read_only_fields = fields


class ImageBuildRequestSerializer(StrictSerializer):
    template = serializers.ChoiceField(choices=Template.choices)
    region = serializers.RegexField(r"^[a-z]{2}(-[a-z0-9]+){1,3}$", max_length=32)
    base_image_id = serializers.RegexField(r"^[A-Za-z0-9_.\-]{1,128}$")
    copy_regions = serializers.ListField(
        child=serializers.RegexField(r"^[a-z]{2}(-[a-z0-9]+){1,3}$", max_length=32),
        max_length=20,
        required=False,
        default=list,
    )

    def validate(self, attrs: dict) -> dict:
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(
                {name: ["This field is not accepted."] for name in sorted(unknown)}
            )
        return attrs
