"""What the billing endpoints answer, described for the OpenAPI schema."""

from __future__ import annotations

from rest_framework import serializers

from nestops.api import StrictSerializer


class EstimateResponseSerializer(StrictSerializer):
    currency = serializers.CharField()
    configuration = serializers.DictField()
    availability = serializers.DictField()
    hourly = serializers.DictField()
    usage = serializers.DictField()
    pay_as_you_go = serializers.DictField()
    subscription = serializers.DictField(allow_null=True)
    break_even_hours_per_month = serializers.CharField(allow_null=True)
    break_even_note = serializers.CharField(allow_null=True, allow_blank=True)
    recommendation = serializers.DictField(allow_null=True)
    prices = serializers.DictField()


class CostsResponseSerializer(StrictSerializer):
    since = serializers.DateField()
    until = serializers.DateField()
    time_zone = serializers.CharField(help_text="The billing time zone the days are counted in.")
    group_by = serializers.ListField(child=serializers.CharField())
    columns = serializers.ListField(child=serializers.CharField())
    results = serializers.ListField(child=serializers.DictField())
    totals = serializers.ListField(child=serializers.DictField())
