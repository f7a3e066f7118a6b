"""What is on a host: model files, extensions, and the teams' tokens for model sites."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from instances.models import ServiceInstance
from nestops.fields import EncryptedTextField
from nestops.ids import new_extension_id, new_model_file_id


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


def thumbnail_etag(png: bytes) -> str:
    return hashlib.sha256(png).hexdigest()[:16] if png else ""


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
    # A small PNG of the preview: made when it is set through nestops, or read once from the
    # host's WebUI when the inventory finds one (``preview_read_at``; empty if unreadable).
    preview_thumbnail = models.BinaryField(_("preview thumbnail"), blank=True, default=b"")
    # Names the thumbnail's content (ETag, and the version in its URL); empty without one, so
    # lists need not load the bytes.
    thumbnail_etag = models.CharField(_("thumbnail ETag"), max_length=16, blank=True)
    preview_read_at = models.DateTimeField(_("preview read from the host"), null=True, blank=True)
    source_url = models.CharField(_("downloaded from"), max_length=2000, blank=True)
    modified_at = models.DateTimeField(_("modified on the host"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "instances_modelfile"
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

    def set_thumbnail(self, png: bytes) -> None:
        self.preview_thumbnail = png
        self.thumbnail_etag = thumbnail_etag(png)

    @property
    def thumbnail_path(self) -> str:
        """The thumbnail's API path (versioned by its content, so it may be cached long)."""
        if not self.thumbnail_etag:
            return ""
        return (
            f"/api/v1/instances/{self.instance.public_id}/models/{self.public_id}/thumbnail/"
            f"?v={self.thumbnail_etag}"
        )


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
        db_table = "instances_extension"
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


# The hosts (and their subdomains) each token is sent to. Besides these, the Hugging Face token
# goes to the server's NESTOPS_HUGGINGFACE_ENDPOINT (a mirror the operator chose), never to a
# mirror a team set (``hostfiles.rules.token_provider_for``).
TOKEN_PROVIDER_DOMAINS: dict[str, tuple[str, ...]] = {
    TokenProvider.CIVITAI: ("civitai.com",),
    TokenProvider.HUGGINGFACE: ("huggingface.co",),
    TokenProvider.MODELSCOPE: ("modelscope.cn",),
}


class DownloadSource(models.TextChoices):
    """Model sites whose files may be named by repository and path (nestops finds the URL)."""

    HUGGINGFACE = "huggingface", _("Hugging Face")
    MODELSCOPE = "modelscope", _("ModelScope")


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
        db_table = "instances_sourcetoken"
        constraints = [
            models.UniqueConstraint(fields=["team", "provider"], name="source_token_unique")
        ]
        verbose_name = _("model site token")
        verbose_name_plural = _("model site tokens")

    def __str__(self) -> str:
        return f"{self.get_provider_display()} token of {self.team}"


class DownloadSecret(models.Model):
    """The full URL of a download whose query string carries credentials (a presigned link).

    Stored encrypted and read only when the download script is rendered for the host; the
    operation's parameters, the model file and every page and API answer keep the redacted
    URL (``?X-Amz-Signature=REDACTED``).
    """

    operation = models.OneToOneField(
        "operations.Operation", on_delete=models.CASCADE, related_name="download_secret"
    )
    url = EncryptedTextField(_("URL with credentials"), editable=False)

    class Meta:
        verbose_name = _("download URL with credentials")
        verbose_name_plural = _("download URLs with credentials")

    def __str__(self) -> str:
        return f"URL with credentials of {self.operation_id}"


class HostDisk(models.Model):
    """The space on a host's WebUI disk, as its last inventory or download progress read it."""

    instance = models.OneToOneField(
        ServiceInstance, on_delete=models.CASCADE, related_name="disk", primary_key=True
    )
    free_bytes = models.PositiveBigIntegerField(_("free (bytes)"))
    total_bytes = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"))

    class Meta:
        verbose_name = _("host disk")
        verbose_name_plural = _("host disks")

    def __str__(self) -> str:
        return f"disk of {self.instance_id}: {self.free_bytes} bytes free"


class DismissedFailure(models.Model):
    """A failed file operation someone has read: the Models tab no longer lists it."""

    operation = models.OneToOneField(
        "operations.Operation",
        on_delete=models.CASCADE,
        related_name="dismissal",
        primary_key=True,
    )
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    dismissed_at = models.DateTimeField(_("dismissed"), auto_now_add=True)

    class Meta:
        verbose_name = _("dismissed failure")
        verbose_name_plural = _("dismissed failures")

    def __str__(self) -> str:
        return f"dismissed failure of {self.operation_id}"


class TeamFileSettings(models.Model):
    """A team's download settings; each empty value means the server's default.

    ``github_mirror``: the prefix its hosts clone GitHub extensions through
    (``NESTOPS_GITHUB_MIRROR``); ``huggingface_endpoint``: where Hugging Face files are
    downloaded from (``NESTOPS_HUGGINGFACE_ENDPOINT``, else https://huggingface.co);
    ``download_connections``: parallel connections per download (``NESTOPS_DOWNLOAD_CONNECTIONS``).
    """

    team = models.OneToOneField(
        Team, on_delete=models.CASCADE, related_name="file_settings", primary_key=True
    )
    github_mirror = models.CharField(_("GitHub mirror"), max_length=300, blank=True)
    huggingface_endpoint = models.CharField(
        _("Hugging Face endpoint"), max_length=300, blank=True, default=""
    )
    download_connections = models.PositiveSmallIntegerField(
        _("connections per download"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(16)],
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("download settings")
        verbose_name_plural = _("download settings")

    def __str__(self) -> str:
        return f"download settings of {self.team}"
