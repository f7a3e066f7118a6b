from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class NestopsConfig(AppConfig):
    """The project itself: settings, URLs, the periodic job list, shared API pieces.

    It keeps its label because the first migrations of the team, token, audit and
    notification tables are recorded under it.
    """

    name = "nestops"
    verbose_name = "nestops"

    def ready(self) -> None:
        from nestops import checks  # noqa: F401  (registers the deployment checks)
        from nestops.beat import ensure_periodic_jobs

        post_migrate.connect(ensure_periodic_jobs, sender=self)
