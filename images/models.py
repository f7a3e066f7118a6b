"""WebUI images nestops builds (``ImageBuild``) and the images it recorded per template and
region (``WebUIImage``), which deploys use."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.requester import Source
from nestops.ids import new_public_id


def new_build_id() -> str:
    return new_public_id("ib")


class Template(models.TextChoices):
    # The same values as instances.models.Template (this app sits below instances).
    SD_WEBUI = "sd-webui", _("Stable Diffusion WebUI (AUTOMATIC1111)")
    SD_WEBUI_FORGE = "sd-webui-forge", _("Stable Diffusion WebUI Forge")


class BuildStatus(models.TextChoices):
    """pending -> running -> succeeded | failed; the last two are final."""

    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


ACTIVE_BUILD_STATUSES = (BuildStatus.PENDING, BuildStatus.RUNNING)


class ImageBuild(models.Model):
    """One build of a WebUI image, carried out step by step by ``images.builder``.

    It is not an ``Operation``: operations act on a service instance, a build acts on the
    account (a temporary host, then images in several regions). It has the same shape and the
    same runner rules: a lease claimed with a conditional UPDATE, ``state`` and ``steps`` saved
    after each step, ClientTokens from ``public_id``, cleanup steps after a failure.
    """

    public_id = models.CharField(
        _("id"), max_length=16, unique=True, default=new_build_id, editable=False
    )
    template = models.CharField(_("template"), max_length=20, choices=Template.choices)
    region = models.CharField(_("region"), max_length=32)
    base_image_id = models.CharField(_("base image"), max_length=128)
    copy_regions = models.JSONField(_("copied to"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=BuildStatus.choices, default=BuildStatus.PENDING
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    state = models.JSONField(default=dict, blank=True)
    steps = models.JSONField(_("steps"), default=list, blank=True)
    log = models.TextField(_("log"), blank=True)
    error_code = models.CharField(_("error code"), max_length=100, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    deadline_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="image_build_due")]
        verbose_name = _("image build")
        verbose_name_plural = _("image builds")

    def __str__(self) -> str:
        return f"{self.get_template_display()} {self.region} ({self.public_id})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_BUILD_STATUSES


class WebUIImage(models.Model):
    """A custom image holding the WebUI of ``template`` in ``region``, built by nestops.

    The newest Available one per (template, region) is what deploys there use, unless
    NESTOPS_IMAGES names another.
    """

    class Status(models.TextChoices):
        CREATING = "creating", _("Creating")
        AVAILABLE = "available", _("Available")

    template = models.CharField(_("template"), max_length=20, choices=Template.choices)
    region = models.CharField(_("region"), max_length=32)
    cloud_image_id = models.CharField(_("image id"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=128)
    # The WebUI commit the bootstrap checked out (git rev-parse HEAD on the build host).
    webui_commit = models.CharField(_("WebUI commit"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.CREATING
    )
    build = models.ForeignKey(
        ImageBuild, on_delete=models.SET_NULL, null=True, blank=True, related_name="images"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["template", "region", "-created_at"]
        indexes = [models.Index(fields=["template", "region", "status"], name="webui_image_use")]
        verbose_name = _("WebUI image")
        verbose_name_plural = _("WebUI images")

    def __str__(self) -> str:
        return f"{self.cloud_image_id} ({self.template}, {self.region})"
