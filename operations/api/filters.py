"""How operation lists are filtered, in the API and on the dashboard alike."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from accounts.requester import Source
from nestops.filters import SinceFilter, UntilFilter
from operations.models import Kind, Operation, OperationStatus


class OperationFilter(django_filters.FilterSet):
    """``since``/``until`` take a day (whole days, in the user's time zone) or an ISO time."""

    instance = django_filters.CharFilter(method="filter_instance", label="Instance id or name")
    status = django_filters.MultipleChoiceFilter(choices=OperationStatus.choices)
    kind = django_filters.MultipleChoiceFilter(choices=Kind.choices)
    source = django_filters.MultipleChoiceFilter(choices=Source.choices)
    since = SinceFilter(field_name="created_at")
    until = UntilFilter(field_name="created_at")
    team = django_filters.CharFilter(field_name="team__slug")

    class Meta:
        model = Operation
        fields = ["instance", "status", "kind", "source", "since", "until", "team"]

    def filter_instance(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(Q(instance__public_id=value) | Q(instance__name=value))
