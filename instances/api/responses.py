"""What the catalog endpoints answer, described for the OpenAPI schema."""

from __future__ import annotations

from rest_framework import serializers

from nestops.api import StrictSerializer


class RegionSerializer(StrictSerializer):
    region_id = serializers.CharField()
    local_name = serializers.CharField()


class ZoneSerializer(StrictSerializer):
    zone_id = serializers.CharField()
    local_name = serializers.CharField()


class OfferSerializer(StrictSerializer):
    instance_type = serializers.CharField()
    family = serializers.CharField()
    cpu = serializers.IntegerField()
    memory_gib = serializers.FloatField()
    gpu_amount = serializers.IntegerField()
    gpu_spec = serializers.CharField()
    gpu_memory_gib = serializers.FloatField()
    zone_id = serializers.CharField()
    in_stock = serializers.BooleanField()
