"""Reads of what is on a host: its model files and extensions."""

from __future__ import annotations

from django.db.models import QuerySet

from hostfiles.models import Extension, ModelFile
from instances.models import ServiceInstance


def model_files_on(instance: ServiceInstance) -> QuerySet[ModelFile]:
    return ModelFile.objects.filter(instance=instance).select_related("instance")


def extensions_on(instance: ServiceInstance) -> QuerySet[Extension]:
    return Extension.objects.filter(instance=instance).select_related("instance")
