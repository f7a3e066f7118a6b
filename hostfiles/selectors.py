"""Reads of what is on a host: its model files and extensions."""

from __future__ import annotations

from django.db.models import QuerySet

from hostfiles.models import Extension, ModelFile
from instances.models import ServiceInstance


def model_files_on(instance: ServiceInstance) -> QuerySet[ModelFile]:
    # The thumbnails' bytes are served by their own URL; lists do not load them.
    return (
        ModelFile.objects.filter(instance=instance)
        .select_related("instance")
        .defer("preview_thumbnail")
    )


def extensions_on(instance: ServiceInstance) -> QuerySet[Extension]:
    return Extension.objects.filter(instance=instance).select_related("instance")
