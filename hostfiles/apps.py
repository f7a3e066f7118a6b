from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HostfilesConfig(AppConfig):
    name = "hostfiles"
    verbose_name = _("Models and extensions on hosts")

    def ready(self) -> None:
        from hostfiles.followers import read_files_when_running
        from hostfiles.handlers import HANDLERS
        from instances.lifecycle import status_changed
        from operations.handlers import register

        for kind, handler in HANDLERS.items():
            register(kind, handler)
        status_changed.connect(read_files_when_running, dispatch_uid="hostfiles-read-files")
