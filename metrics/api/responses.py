"""What the metrics endpoint answers, described for the OpenAPI schema."""

from __future__ import annotations

from rest_framework import serializers

from nestops.api import StrictSerializer


class PointSerializer(StrictSerializer):
    at = serializers.DateTimeField()
    average = serializers.FloatField()
    maximum = serializers.FloatField()
    minimum = serializers.FloatField()


class SeriesSerializer(StrictSerializer):
    instance = serializers.CharField()
    metric = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    step = serializers.IntegerField()
    source = serializers.CharField()
    points = PointSerializer(many=True)
