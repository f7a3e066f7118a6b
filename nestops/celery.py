"""The Celery application: JSON only, configured from Django settings (``CELERY_*``)."""

from __future__ import annotations

import os

from celery import Celery

from nestops.broker import use_for_filesystem_urls

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nestops.settings")

# The embedded broker recreates its folders when they go missing (see nestops/broker.py).
use_for_filesystem_urls()
app = Celery("nestops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
