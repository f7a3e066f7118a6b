from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class NestopsConfig(AppConfig):
    name = "nestops"
    verbose_name = _("Accounts and teams")

    def ready(self) -> None:
        from nestops.beat import ensure_periodic_jobs

        post_migrate.connect(ensure_periodic_jobs, sender=self)
