"""Policies that stop (and start) hosts on their own: idle policies, snoozes, a team's idle
limits, the latest idle evaluation of each host, and weekly schedules.

They decide; operations act: a stop or a start is requested like any other operation.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from instances.models import ServiceInstance, StopMode
from operations.models import Operation


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
        db_table = "operations_idlepolicy"
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
        db_table = "operations_teamidlesettings"
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
        db_table = "operations_snooze"
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
        db_table = "operations_idleevaluation"
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
    # The last time a pending closing found the host in use (its team was warned the first
    # time); the stop waits for the idle policy's warning period without activity after it.
    closing_in_use_at = models.DateTimeField(_("in use at closing"), null=True, blank=True)
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
        db_table = "operations_schedule"
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")

    def __str__(self) -> str:
        return f"schedule of {self.instance_id} ({self.time_zone})"
