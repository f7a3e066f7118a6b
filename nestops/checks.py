"""Deployment checks shown by ``manage.py check`` (and before migrate, runserver, …)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning as CheckWarning
from django.core.checks import register


@register("nestops")
def cache_shared_with_the_broker(app_configs: Any = None, **kwargs: Any) -> list[CheckWarning]:
    """A Redis broker suggests processes on several machines; a cache of files is per machine,
    so failed sign-ins and API rates would be counted per machine."""
    redis_broker = settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
    backend = settings.CACHES["default"]["BACKEND"]
    if redis_broker and not backend.endswith("RedisCache"):
        return [
            CheckWarning(
                "The broker is Redis but the cache is not: failed sign-ins and API rates are "
                "counted per machine.",
                hint="Set NESTOPS_CACHE_URL, e.g. redis://host:6379/1 (another database than "
                "the broker's).",
                id="nestops.W001",
            )
        ]
    return []
