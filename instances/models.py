"""A service instance: one Stable Diffusion WebUI host and the cloud resources around it."""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from nestops.fields import EncryptedTextField
from nestops.ids import new_extension_id, new_instance_id, new_model_file_id
from nestops.models import Team, TeamScopedQuerySet


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
    webui_user = models.CharField(_("WebUI user"), max_length=32, default="admin")
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


# --- CloudMonitor metrics ----------------------------------------------------------------------


class Metric(models.IntegerChoices):
    """The host metrics nestops collects; ``CMS_NAMES`` gives CloudMonitor's names."""

    GPU = 1, _("GPU utilisation (%)")
    GPU_MEMORY = 2, _("GPU memory used (%)")
    CPU = 3, _("CPU utilisation (%)")
    MEMORY = 4, _("Memory used (%)")
    NETWORK_OUT = 5, _("Internet out (bit/s)")


CMS_NAMES: dict[int, str] = {
    Metric.GPU: "gpu_gpu_usedutilization",
    Metric.GPU_MEMORY: "gpu_memory_usedutilization",
    Metric.CPU: "CPUUtilization",
    Metric.MEMORY: "memory_usedutilization",
    Metric.NETWORK_OUT: "InternetOutRate",
}
# The names the API and the charts use.
METRIC_KEYS: dict[str, int] = {
    "gpu": Metric.GPU,
    "gpu_memory": Metric.GPU_MEMORY,
    "cpu": Metric.CPU,
    "memory": Metric.MEMORY,
    "network": Metric.NETWORK_OUT,
}


class MetricSample(models.Model):
    """One CloudMonitor point (Period 60) of one host: average, maximum and minimum of a minute.

    ``timestamp`` is the start of the minute in milliseconds since the epoch, as CloudMonitor
    gave it (the cloud's clock, never adjusted to ours). Kept 7 days; older data lives on as
    ``MetricHourly``.
    """

    instance = models.ForeignKey(
        ServiceInstance, on_delete=models.CASCADE, related_name="metric_samples"
    )
    metric = models.PositiveSmallIntegerField(_("metric"), choices=Metric.choices)
    timestamp = models.BigIntegerField(_("minute (ms since the epoch)"))
    average = models.FloatField(_("average"))
    maximum = models.FloatField(_("maximum"))
    minimum = models.FloatField(_("minimum"))

    class Meta:
        constraints = [
            # Collection re-reads overlapping ranges; the constraint drops what it already has.
            models.UniqueConstraint(
                fields=["instance", "metric", "timestamp"], name="metric_sample_unique"
            )
        ]
        indexes = [
            # evaluate_idle reads the last minutes of every host's GPU series; prune cuts by age.
            models.Index(fields=["metric", "timestamp"], name="metric_sample_metric_time"),
        ]
        verbose_name = _("metric sample")
        verbose_name_plural = _("metric samples")

    def __str__(self) -> str:
        return f"{self.get_metric_display()} {self.instance_id} @ {self.at:%Y-%m-%d %H:%M}"

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp / 1000, tz=UTC)


class MetricHourly(models.Model):
    """An hour of a host's metric, rolled up from ``MetricSample`` (kept 90 days)."""

    instance = models.ForeignKey(
        ServiceInstance, on_delete=models.CASCADE, related_name="metric_hours"
    )
    metric = models.PositiveSmallIntegerField(_("metric"), choices=Metric.choices)
    hour = models.BigIntegerField(_("hour (ms since the epoch)"))
    average = models.FloatField(_("average"))
    maximum = models.FloatField(_("maximum"))
    minimum = models.FloatField(_("minimum"))
    samples = models.PositiveSmallIntegerField(_("minutes with data"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "metric", "hour"], name="metric_hour_unique"
            )
        ]
        indexes = [models.Index(fields=["hour"], name="metric_hour_time")]
        verbose_name = _("hourly metric")
        verbose_name_plural = _("hourly metrics")

    def __str__(self) -> str:
        return f"{self.get_metric_display()} {self.instance_id} @ {self.at:%Y-%m-%d %H:00}"

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.hour / 1000, tz=UTC)


# --- What is on a host: model files and extensions -------------------------------------------


class ModelKind(models.TextChoices):
    CHECKPOINT = "checkpoint", _("Checkpoint")
    LORA = "lora", _("LoRA")
    VAE = "vae", _("VAE")
    CONTROLNET = "controlnet", _("ControlNet")
    EMBEDDING = "embedding", _("Embedding")
    UPSCALER = "upscaler", _("Upscaler")
    OTHER = "other", _("Other")


# Where the WebUI looks for each kind, relative to its directory (the AUTOMATIC1111 layout).
# ``other`` files go to a folder the user names under ``models/``.
MODEL_FOLDERS: dict[str, str] = {
    ModelKind.CHECKPOINT: "models/Stable-diffusion",
    ModelKind.LORA: "models/Lora",
    ModelKind.VAE: "models/VAE",
    ModelKind.CONTROLNET: "models/ControlNet",
    ModelKind.EMBEDDING: "embeddings",
    ModelKind.UPSCALER: "models/ESRGAN",
}


class ModelFile(models.Model):
    """A model file on a host (checkpoint, LoRA, VAE, ...) as nestops last saw it.

    Rows come from finished downloads and from inventory refreshes, which replace them with
    what the host really holds. ``path`` is relative to the WebUI directory
    (``models/Lora/x.safetensors``); the file itself exists only on the host.
    """

    public_id = models.CharField(
        _("id"), max_length=16, unique=True, default=new_model_file_id, editable=False
    )
    instance = models.ForeignKey(
        ServiceInstance, on_delete=models.CASCADE, related_name="model_files"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ModelKind.choices)
    path = models.CharField(_("path"), max_length=500)
    name = models.CharField(_("file name"), max_length=255)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    has_preview = models.BooleanField(_("has a preview"), default=False)
    source_url = models.CharField(_("downloaded from"), max_length=2000, blank=True)
    modified_at = models.DateTimeField(_("modified on the host"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["kind", "path"]
        constraints = [
            models.UniqueConstraint(fields=["instance", "path"], name="model_file_unique_path")
        ]
        verbose_name = _("model file")
        verbose_name_plural = _("model files")

    def __str__(self) -> str:
        return f"{self.path} ({self.public_id})"

    @property
    def folder(self) -> str:
        return self.path.rpartition("/")[0]


class Extension(models.Model):
    """A WebUI extension on a host: a git checkout under ``extensions/<name>``."""

    public_id = models.CharField(
        _("id"), max_length=16, unique=True, default=new_extension_id, editable=False
    )
    instance = models.ForeignKey(
        ServiceInstance, on_delete=models.CASCADE, related_name="extensions"
    )
    name = models.CharField(_("name"), max_length=100)
    remote_url = models.CharField(_("repository"), max_length=500, blank=True)
    # What the user asked for (branch, tag or commit); empty means the default branch.
    ref = models.CharField(_("branch, tag or commit"), max_length=100, blank=True)
    commit = models.CharField(_("commit"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["instance", "name"], name="extension_unique_name")
        ]
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"


class TokenProvider(models.TextChoices):
    CIVITAI = "civitai", _("Civitai")
    HUGGINGFACE = "huggingface", _("Hugging Face")
    MODELSCOPE = "modelscope", _("ModelScope")


# The hosts (and their subdomains) each token is sent to; nowhere else, mirrors included.
TOKEN_PROVIDER_DOMAINS: dict[str, tuple[str, ...]] = {
    TokenProvider.CIVITAI: ("civitai.com",),
    TokenProvider.HUGGINGFACE: ("huggingface.co",),
    TokenProvider.MODELSCOPE: ("modelscope.cn",),
}


class SourceToken(models.Model):
    """A team's API token for a model site, sent to hosts only inside a download script.

    Write-only: the API says whether a token is set, never what it is.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="source_tokens")
    provider = models.CharField(_("provider"), max_length=16, choices=TokenProvider.choices)
    token = EncryptedTextField(_("token"), editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "provider"], name="source_token_unique")
        ]
        verbose_name = _("model site token")
        verbose_name_plural = _("model site tokens")

    def __str__(self) -> str:
        return f"{self.get_provider_display()} token of {self.team}"
