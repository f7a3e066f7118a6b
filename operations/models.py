"""Operations: the durable record of everything done to a service instance."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, TeamScopedQuerySet
from accounts.requester import Source
from instances.models import ServiceInstance
from nestops.ids import new_operation_id


class Kind(models.TextChoices):
    DEPLOY = "deploy", _("Deploy")
    START = "start", _("Start")
    STOP = "stop", _("Stop")
    RESTART = "restart", _("Restart")
    RESIZE = "resize", _("Resize")
    DELETE = "delete", _("Delete")
    DOWNLOAD_MODEL = "download_model", _("Download model")
    DELETE_MODEL = "delete_model", _("Delete model")
    SET_PREVIEW = "set_preview", _("Set model preview")
    INSTALL_EXTENSION = "install_extension", _("Install extension")
    UPDATE_EXTENSION = "update_extension", _("Update extension")
    REMOVE_EXTENSION = "remove_extension", _("Remove extension")
    REFRESH_INVENTORY = "refresh_inventory", _("Refresh inventory")
    SET_WEBUI_LANGUAGE = "set_webui_language", _("Set WebUI language")


# Kinds that change the host's power or existence: at most one of them is active per instance.
LIFECYCLE_KINDS = (Kind.DEPLOY, Kind.START, Kind.STOP, Kind.RESTART, Kind.RESIZE, Kind.DELETE)
# Kinds that change files on a running host; several may run at once, up to
# NESTOPS_HOST_FILE_OPERATIONS_PER_HOST, and never two on the same file (``params["target"]``).
HOST_FILE_KINDS = (
    Kind.DOWNLOAD_MODEL,
    Kind.DELETE_MODEL,
    Kind.SET_PREVIEW,
    Kind.INSTALL_EXTENSION,
    Kind.UPDATE_EXTENSION,
    Kind.REMOVE_EXTENSION,
    Kind.REFRESH_INVENTORY,
    Kind.SET_WEBUI_LANGUAGE,
)


class OperationStatus(models.TextChoices):
    """pending -> running -> succeeded | failed | cancelled; the last three are final."""

    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_STATUSES = (OperationStatus.PENDING, OperationStatus.RUNNING)
TERMINAL_STATUSES = (
    OperationStatus.SUCCEEDED,
    OperationStatus.FAILED,
    OperationStatus.CANCELLED,
)


class OperationQuerySet(TeamScopedQuerySet):
    def active(self) -> OperationQuerySet:
        return self.filter(status__in=ACTIVE_STATUSES)


class Operation(models.Model):
    """One action on an instance, carried out step by step by the runner.

    ``state`` holds the handler's progress (current step, ids it created, when it started
    waiting); ``steps`` is the timeline shown to people (name, status, times, cloud request
    ids); ``log`` is a bounded text log. The lease columns let any worker claim the
    operation safely: a second delivery of the same message finds the lease taken.
    """

    public_id = models.CharField(
        _("id"), max_length=16, unique=True, default=new_operation_id, editable=False
    )
    instance = models.ForeignKey(
        ServiceInstance, on_delete=models.CASCADE, related_name="operations"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="operations")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=OperationStatus.choices,
        default=OperationStatus.PENDING,
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    state = models.JSONField(default=dict, blank=True)
    steps = models.JSONField(_("steps"), default=list, blank=True)
    log = models.TextField(_("log"), blank=True)
    error_code = models.CharField(_("error code"), max_length=100, blank=True)
    error_message = models.TextField(_("error message"), blank=True)

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    remote_addr = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=128, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)

    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    deadline_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)

    objects = OperationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["actor", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="operation_idempotency_key_unique_per_actor",
            ),
            # The database, not only the service, refuses a second active lifecycle operation.
            models.UniqueConstraint(
                fields=["instance"],
                condition=models.Q(status__in=["pending", "running"])
                & models.Q(kind__in=[k.value for k in LIFECYCLE_KINDS])
                & ~models.Q(kind="delete"),
                name="operation_one_active_lifecycle_per_instance",
            ),
            models.UniqueConstraint(
                fields=["instance"],
                condition=models.Q(status__in=["pending", "running"]) & models.Q(kind="delete"),
                name="operation_one_active_delete_per_instance",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="operation_due"),
            models.Index(fields=["team", "-created_at"], name="operation_team_time"),
            models.Index(fields=["instance", "-created_at"], name="operation_instance_time"),
        ]
        verbose_name = _("operation")
        verbose_name_plural = _("operations")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.instance.public_id} ({self.public_id})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_lifecycle(self) -> bool:
        return self.kind in LIFECYCLE_KINDS
