from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutostopConfig(AppConfig):
    name = "autostop"
    verbose_name = _("Auto-stop and schedules")
