from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CloudAccountConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cloudaccount"
    verbose_name = _("Cloud account")
