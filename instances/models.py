"""A service instance: one Stable Diffusion WebUI host and the cloud resources around it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, TeamScopedQuerySet
from nestops.fields import EncryptedTextField
from nestops.ids import new_instance_id


class Status(models.TextChoices):
    """Lifecycle of an instance.

    deploying -> running | deploy_failed; running -> stopping -> stopped;
    stopped -> starting -> running; running -> restarting -> running;
    stopped -> resizing -> stopped; any but deleted -> deleting -> deleted.
    Transitional states are set only by operations; reconcile corrects stable states.
    """

    DEPLOYING = "deploying", _("Deploying")
    DEPLOY_FAILED = "deploy_failed", _("Deploy failed")
    RUNNING = "running", _("Running")
    STOPPING = "stopping", _("Stopping")
    STOPPED = "stopped", _("Stopped")
    STARTING = "starting", _("Starting")
    RESTARTING = "restarting", _("Restarting")
    RESIZING = "resizing", _("Resizing")
    DELETING = "deleting", _("Deleting")
    DELETED = "deleted", _("Deleted")


STABLE_STATUSES = (Status.RUNNING, Status.STOPPED, Status.DEPLOY_FAILED, Status.DELETED)
TRANSITIONAL_STATUSES = (
    Status.DEPLOYING,
    Status.STOPPING,
    Status.STARTING,
    Status.RESTARTING,
    Status.RESIZING,
    Status.DELETING,
)


class Template(models.TextChoices):
    SD_WEBUI = "sd-webui", _("Stable Diffusion WebUI (AUTOMATIC1111)")
    SD_WEBUI_FORGE = "sd-webui-forge", _("Stable Diffusion WebUI Forge")


class ChargeType(models.TextChoices):
    POSTPAID = "PostPaid", _("Pay-as-you-go")
    PREPAID = "PrePaid", _("Subscription")


class PeriodUnit(models.TextChoices):
    MONTH = "Month", _("Month")
    WEEK = "Week", _("Week")


class StopMode(models.TextChoices):
    STOP_CHARGING = "StopCharging", _("Save costs (StopCharging)")
    KEEP_CHARGING = "KeepCharging", _("Keep resources (KeepCharging)")


class WebUILanguage(models.TextChoices):
    """The WebUI's own localization (its ``localization`` setting); ``en`` is its built-in
    English, ``zh_CN`` the Chinese localization the nestops image carries."""

    EN = "en", "English"
    ZH_CN = "zh_CN", "简体中文"


class ServiceInstanceQuerySet(TeamScopedQuerySet):
    def alive(self) -> ServiceInstanceQuerySet:
        return self.exclude(status=Status.DELETED)


class ServiceInstance(models.Model):
    """A WebUI host of a team: what was asked for, what exists in the cloud, and its state."""

    public_id = models.CharField(
        _("id"), max_length=16, unique=True, default=new_instance_id, editable=False
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="instances")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    name = models.CharField(_("name"), max_length=64)
    template = models.CharField(
        _("template"), max_length=20, choices=Template.choices, default=Template.SD_WEBUI
    )

    region = models.CharField(_("region"), max_length=32)
    zone = models.CharField(_("zone"), max_length=32)
    instance_type = models.CharField(_("instance type"), max_length=48)
    charge_type = models.CharField(
        _("charge type"), max_length=10, choices=ChargeType.choices, default=ChargeType.POSTPAID
    )
    period = models.PositiveSmallIntegerField(_("period"), null=True, blank=True)
    period_unit = models.CharField(
        _("period unit"), max_length=8, choices=PeriodUnit.choices, blank=True
    )
    auto_renew = models.BooleanField(_("auto-renew"), default=False)
    system_disk_category = models.CharField(_("system disk"), max_length=24, default="cloud_essd")
    system_disk_size = models.PositiveIntegerField(_("system disk size (GB)"), default=200)
    bandwidth_out = models.PositiveSmallIntegerField(_("bandwidth (Mbit/s)"), default=10)

    # Network: either a new VPC from these CIDRs, or the existing ids the user gave.
    vpc_cidr = models.CharField(_("VPC CIDR"), max_length=18, blank=True)
    vswitch_cidr = models.CharField(_("vSwitch CIDR"), max_length=18, blank=True)
    vpc_id = models.CharField(_("VPC"), max_length=64, blank=True)
    vswitch_id = models.CharField(_("vSwitch"), max_length=64, blank=True)
    owns_network = models.BooleanField(
        _("network created by nestops"),
        default=True,
        help_text=_("Delete removes the VPC and vSwitch only when nestops created them."),
    )
    security_group_id = models.CharField(_("security group"), max_length=64, blank=True)
    cloud_instance_id = models.CharField(_("ECS instance"), max_length=64, blank=True)
    public_access = models.BooleanField(_("public access"), default=False)
    public_ip = models.GenericIPAddressField(_("public IP"), null=True, blank=True)
    private_ip = models.GenericIPAddressField(_("private IP"), null=True, blank=True)

    webui_endpoint = models.CharField(_("WebUI endpoint"), max_length=200, blank=True)
    # Set when the deploy configured TLS on the host: the port its WebUI serves HTTPS on, as
    # the host reported it (NESTOPS_WEBUI_PORT on a real host; cloudsim gives each host one).
    webui_tls_port = models.PositiveIntegerField(_("WebUI TLS port"), null=True, blank=True)
    webui_user = models.CharField(_("WebUI user"), max_length=32, default="admin")
    webui_language = models.CharField(
        _("WebUI language"),
        max_length=8,
        choices=WebUILanguage.choices,
        default=WebUILanguage.EN,
    )
    webui_password = EncryptedTextField(_("WebUI password"), blank=True, editable=False)
    # Kept only until the host exists: RunInstances may be retried with the same parameters.
    host_password = EncryptedTextField(_("host login password"), blank=True, editable=False)

    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DEPLOYING
    )
    status_reason = models.TextField(_("status reason"), blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)
    stopped_mode = models.CharField(
        _("stopped mode"), max_length=16, choices=StopMode.choices, blank=True
    )
    running_since = models.DateTimeField(_("running since"), null=True, blank=True)
    expires_at = models.DateTimeField(_("subscription ends"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    objects = ServiceInstanceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A name can be used again once the instance that had it is deleted.
            models.UniqueConstraint(
                fields=["team", "name"],
                condition=~models.Q(status="deleted"),
                name="instance_name_unique_per_team",
            )
        ]
        indexes = [
            models.Index(fields=["team", "status"], name="instance_team_status"),
            models.Index(fields=["region", "status"], name="instance_region_status"),
            # Lists are a team's instances newest first: with this index a page reads its 50
            # rows in order instead of sorting all of the team's.
            models.Index(fields=["team", "-created_at", "-id"], name="instance_team_newest_first"),
        ]
        verbose_name = _("service instance")
        verbose_name_plural = _("service instances")

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"

    @property
    def is_prepaid(self) -> bool:
        return self.charge_type == ChargeType.PREPAID

    @property
    def subscription_active(self) -> bool:
        return self.is_prepaid and self.expires_at is not None and self.expires_at > timezone.now()

    def set_status(self, status: str, reason: str = "") -> None:
        """Changes the status in memory; the caller saves inside its transaction."""
        if status != self.status:
            self.status_changed_at = timezone.now()
        if status == Status.RUNNING and self.status != Status.RUNNING:
            self.running_since = timezone.now()
        elif status != Status.RUNNING:
            self.running_since = None
        if status != Status.STOPPED:
            self.stopped_mode = ""
        if status == Status.DELETED and self.deleted_at is None:
            self.deleted_at = timezone.now()
        self.status = status
        self.status_reason = reason
