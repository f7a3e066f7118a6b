"""Operations: the durable record of everything done to a service instance."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from instances.models import ServiceInstance, StopMode
from nestops.ids import new_operation_id
from nestops.models import Team, TeamScopedQuerySet


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


class Source(models.TextChoices):
    DASHBOARD = "dashboard", _("Dashboard")
    API = "api", _("API")
    ADMIN = "admin", _("Admin")
    IDLE_POLICY = "idle_policy", _("Idle policy")
    SCHEDULE = "schedule", _("Schedule")
    BUDGET = "budget", _("Budget")
    SYSTEM = "system", _("System")


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


# --- Idle policy, snoozes and schedules -----------------------------------------------------
# They decide operations (a stop when nobody works, a start when a window opens), so they live
# with operations; what a host measured lives with the instance (``instances.MetricSample``).


class IdlePolicy(models.Model):
    """How an instance is stopped when nobody uses it. Without a row the settings' defaults
    apply (on for pay-as-you-go hosts); a team's ``TeamIdleSettings`` may cap it."""

    instance = models.OneToOneField(
        ServiceInstance, on_delete=models.CASCADE, primary_key=True, related_name="idle_policy"
    )
    enabled = models.BooleanField(_("stop when idle"))
    idle_minutes = models.PositiveIntegerField(_("idle minutes"))
    gpu_threshold = models.FloatField(_("GPU threshold (%)"))
    stop_mode = models.CharField(_("stop mode"), max_length=16, choices=StopMode.choices)
    warning_minutes = models.PositiveIntegerField(_("warning (minutes before the stop)"))
    delete_after_days = models.PositiveIntegerField(
        _("delete after days stopped"), null=True, blank=True
    )
    max_running_hours = models.PositiveIntegerField(
        _("maximum running hours per start"), null=True, blank=True
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("idle policy")
        verbose_name_plural = _("idle policies")

    def __str__(self) -> str:
        return f"idle policy of {self.instance_id}"


class TeamIdleSettings(models.Model):
    """What a team's admins enforce on every pay-as-you-go host of the team: a maximum idle
    window that operators can neither exceed nor switch off, and a cap on snoozes."""

    team = models.OneToOneField(
        Team, on_delete=models.CASCADE, primary_key=True, related_name="idle_settings"
    )
    max_idle_minutes = models.PositiveIntegerField(
        _("maximum idle minutes (enforced)"), null=True, blank=True
    )
    max_snooze_hours = models.PositiveIntegerField(_("maximum snooze hours"), null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("team idle settings")
        verbose_name_plural = _("team idle settings")

    def __str__(self) -> str:
        return f"idle settings of {self.team}"


class Snooze(models.Model):
    """ "Keep awake for N hours": while it lasts the idle policy counts the host as active."""

    instance = models.ForeignKey(ServiceInstance, on_delete=models.CASCADE, related_name="snoozes")
    until = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["until"], name="snooze_until")]
        verbose_name = _("snooze")
        verbose_name_plural = _("snoozes")

    def __str__(self) -> str:
        return f"snooze of {self.instance_id} until {self.until:%Y-%m-%d %H:%M}"


class IdleVerdict(models.TextChoices):
    ACTIVE = "active", _("Active")
    IDLE = "idle", _("Idle")
    BLIND = "blind", _("Blind")
    SNOOZED = "snoozed", _("Snoozed")
    DISABLED = "disabled", _("Idle stop off")
    STOPPING = "stopping", _("Stopping")


class IdleEvaluation(models.Model):
    """The latest idle evaluation of a running host, and why: every signal with its value.

    ``last_activity_at`` is the idle clock: the newest moment any signal showed activity (or
    could not be read). The ``*_for`` columns remember which idle or blind stretch a
    notification was sent for, so each is sent once; they change only through conditional
    updates, never through the per-run bulk write.
    """

    instance = models.OneToOneField(
        ServiceInstance, on_delete=models.CASCADE, primary_key=True, related_name="idle_evaluation"
    )
    evaluated_at = models.DateTimeField(_("evaluated"))
    verdict = models.CharField(_("verdict"), max_length=10, choices=IdleVerdict.choices)
    reason = models.CharField(_("reason"), max_length=40, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    stop_due_at = models.DateTimeField(_("stop due"), null=True, blank=True)
    missing_since = models.DateTimeField(_("signals missing since"), null=True, blank=True)
    signals = models.JSONField(_("signals"), default=dict, blank=True)
    warned_for = models.DateTimeField(null=True, blank=True)
    max_run_warned_for = models.DateTimeField(null=True, blank=True)
    blind_notified_for = models.DateTimeField(null=True, blank=True)
    stop_operation = models.ForeignKey(
        Operation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("idle evaluation")
        verbose_name_plural = _("idle evaluations")

    def __str__(self) -> str:
        return f"{self.instance_id}: {self.verdict}"


class Schedule(models.Model):
    """Weekly on-hours of an instance in a time zone: started when a window opens, save-stopped
    when it closes. ``windows`` is a list of ``{"days": ["mon", ...], "start": "09:00",
    "end": "20:00"}``; an end before the start closes the next day.

    ``applied_until``: every boundary up to this moment has been handled. A boundary is acted
    on once, when it is crossed, so a manual start outside the windows lasts until the next one.
    ``pending_action`` is a crossed boundary that could not be carried out yet (a stop waiting
    for a generation to finish, a start waiting for another operation).
    """

    instance = models.OneToOneField(
        ServiceInstance, on_delete=models.CASCADE, primary_key=True, related_name="schedule"
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    time_zone = models.CharField(_("time zone"), max_length=64)
    windows = models.JSONField(_("windows"), default=list)
    applied_until = models.DateTimeField(_("applied until"))
    pending_action = models.CharField(_("pending action"), max_length=8, blank=True)
    pending_since = models.DateTimeField(_("pending since"), null=True, blank=True)
    last_operation = models.ForeignKey(
        Operation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    failure_reported = models.BooleanField(default=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")

    def __str__(self) -> str:
        return f"schedule of {self.instance_id} ({self.time_zone})"
