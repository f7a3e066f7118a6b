"""How instance lists are filtered, in the API and on the dashboard alike."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from instances.models import ChargeType, ServiceInstance, Status
from nestops.filters import StrictBooleanFilter


class InstanceFilter(django_filters.FilterSet):
    """Deleted instances are left out unless asked for (``include_deleted``) or filtered by
    status."""

    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    region = django_filters.CharFilter()
    zone = django_filters.CharFilter()
    team = django_filters.CharFilter(field_name="team__slug")
    charge_type = django_filters.ChoiceFilter(choices=ChargeType.choices)
    search = django_filters.CharFilter(method="filter_search", label="Name or id")
    include_deleted = StrictBooleanFilter(method="keep", label="Include deleted instances")

    class Meta:
        model = ServiceInstance
        fields = ["status", "region", "zone", "team", "charge_type", "search", "include_deleted"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(
            Q(name__icontains=value) | Q(public_id=value) | Q(cloud_instance_id=value)
        )

    def keep(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset  # applied in filter_queryset, together with status

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        chosen = self.form.cleaned_data
        if not chosen.get("status") and not chosen.get("include_deleted"):
            queryset = queryset.exclude(status=Status.DELETED)
        return queryset
