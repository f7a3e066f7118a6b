"""Clears the per-process counter files of PROMETHEUS_MULTIPROC_DIR before the processes start
(`make run` does): each process writes files named after its pid, which would otherwise pile up
across restarts. Prometheus sees the counters start again, as after any restart."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Removes the per-process metric files under PROMETHEUS_MULTIPROC_DIR."

    def handle(self, *args: Any, **options: Any) -> None:
        removed = 0
        for path in settings.PROMETHEUS_DIR.glob("*.db"):
            path.unlink(missing_ok=True)
            removed += 1
        self.stdout.write(f"removed {removed} metric files from {settings.PROMETHEUS_DIR}")
