"""How the model files of a host are filtered."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from hostfiles.models import ModelFile, ModelKind
from nestops.filters import StrictBooleanFilter


class ModelFileFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=ModelKind.choices)
    search = django_filters.CharFilter(method="filter_search", label="Name or path")
    has_preview = StrictBooleanFilter()

    class Meta:
        model = ModelFile
        fields = ["kind", "search", "has_preview"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(Q(path__icontains=value) | Q(public_id=value))
