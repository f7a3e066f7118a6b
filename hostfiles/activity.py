"""The file operations a host's Models tab and the API show next to its files: those under way
(with a download's bytes, percentage, speed and time left) and those that failed, until someone
retries or dismisses them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.requester import Requester
from hostfiles import services as host_files
from hostfiles.models import DismissedFailure, DownloadSecret
from instances.models import ServiceInstance
from operations.advice import Explanation, explain
from operations.models import HOST_FILE_KINDS, Kind, Operation, OperationStatus
from operations.services import OperationRefused

# Failed operations listed at most (the newest), so an old run of failures cannot grow the tab.
FAILED_SHOWN = 20
RETRYABLE_KINDS = (Kind.DOWNLOAD_MODEL, Kind.INSTALL_EXTENSION, Kind.REFRESH_INVENTORY)

STATES = {
    "queued": _("Queued"),
    "starting": _("Starting"),
    "downloading": _("Downloading"),
    "verifying": _("Verifying"),
    "working": _("In progress"),
    "failed": _("Failed"),
}


@dataclass(frozen=True)
class FileActivity:
    operation: Operation
    target: str
    state: str
    bytes: int | None = None
    total: int | None = None
    speed: int | None = None
    explanation: Explanation | None = None

    @property
    def state_label(self) -> str:
        return str(STATES[self.state])

    @property
    def percent(self) -> int | None:
        if self.bytes is None or not self.total:
            return None
        return min(100, int(self.bytes * 100 / self.total))

    @property
    def seconds_left(self) -> int | None:
        if self.state != "downloading" or not self.speed or not self.total or self.bytes is None:
            return None
        missing = self.total - self.bytes
        # Rounded up: a download that is not done never says no time is left.
        return max(0, math.ceil(missing / self.speed)) if missing > 0 else 0

    @property
    def can_retry(self) -> bool:
        return self.state == "failed" and self.operation.kind in RETRYABLE_KINDS


def _target(operation: Operation) -> str:
    params = operation.params
    return str(params.get("path") or params.get("name") or "")


def _state(operation: Operation) -> FileActivity:
    if operation.status == OperationStatus.FAILED:
        return FileActivity(
            operation=operation,
            target=_target(operation),
            state="failed",
            explanation=explain(operation),
        )
    state = operation.state or {}
    if operation.status == OperationStatus.PENDING or not operation.started_at:
        return FileActivity(operation=operation, target=_target(operation), state="queued")
    sample = state.get("progress")
    if operation.kind == Kind.DOWNLOAD_MODEL and isinstance(sample, dict):
        return FileActivity(
            operation=operation,
            target=_target(operation),
            state=sample.get("phase") or "starting",
            bytes=sample.get("bytes"),
            total=sample.get("total") or None,
            speed=sample.get("speed"),
        )
    return FileActivity(operation=operation, target=_target(operation), state="working")


def host_file_activity(instance: ServiceInstance) -> list[FileActivity]:
    """Active file operations (oldest first), then failed ones nobody dismissed (newest first)."""
    mine = Operation.objects.filter(instance=instance, kind__in=HOST_FILE_KINDS).select_related(
        "actor"
    )
    active = mine.active().order_by("created_at")
    failed = mine.filter(status=OperationStatus.FAILED, dismissal__isnull=True).order_by(
        "-finished_at"
    )[:FAILED_SHOWN]
    return [_state(op) for op in [*active, *failed]]


def dismiss_failure(*, operation: Operation, requester: Requester) -> None:
    """The failed operation leaves the Models tab (the Operations page keeps it)."""
    if operation.status != OperationStatus.FAILED:
        raise OperationRefused("not_failed", str(_("Only a failed operation can be dismissed.")))
    DismissedFailure.objects.get_or_create(
        operation=operation, defaults={"dismissed_by": requester.user}
    )


def _retry_arguments(operation: Operation) -> dict[str, Any]:
    params = operation.params
    if operation.kind == Kind.DOWNLOAD_MODEL:
        secret = DownloadSecret.objects.filter(operation=operation).first()
        return {
            "url": secret.url if secret is not None else params["url"],
            "kind": params["kind"],
            "filename": params["filename"],
            "directory": params.get("directory", ""),
            "sha256": params.get("sha256", ""),
            "overwrite": bool(params.get("overwrite")),
        }
    if operation.kind == Kind.INSTALL_EXTENSION:
        return {
            "url": params["url"],
            "name": params["name"],
            "ref": params.get("ref", ""),
            "restart_webui": bool(params.get("restart_webui", True)),
        }
    return {}


def request_retry(*, operation: Operation, requester: Requester) -> tuple[Operation, bool]:
    """Asks again for what a failed file operation asked for; the failure is dismissed."""
    if operation.status != OperationStatus.FAILED or operation.kind not in RETRYABLE_KINDS:
        raise OperationRefused("not_retryable", str(_("This operation cannot be retried.")))
    instance = operation.instance
    arguments = _retry_arguments(operation)
    with transaction.atomic():
        if operation.kind == Kind.DOWNLOAD_MODEL:
            retried = host_files.request_download(
                instance=instance, **arguments, requester=requester
            )
        elif operation.kind == Kind.INSTALL_EXTENSION:
            retried = host_files.request_extension_install(
                instance=instance, **arguments, requester=requester
            )
        else:
            retried = host_files.request_inventory_refresh(instance=instance, requester=requester)
        dismiss_failure(operation=operation, requester=requester)
    return retried
