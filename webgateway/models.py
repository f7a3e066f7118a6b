"""WebUI access through the gateway: one-time handoff codes, gateway sessions, and who used
which WebUI when."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from instances.models import ServiceInstance


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def secret_digest(value: str) -> str:
    # 256 random bits: a fast hash is enough, nobody can brute-force the plain value.
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class HandoffCode(models.Model):
    """A one-time code the dashboard hands to the gateway's origin in a redirect; exchanged once
    (within seconds) for a gateway session. Only its digest is stored."""

    digest = models.CharField(max_length=64, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    instance = models.ForeignKey(ServiceInstance, on_delete=models.CASCADE, related_name="+")
    next_path = models.CharField(max_length=500, default="/")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("WebUI handoff code")
        verbose_name_plural = _("WebUI handoff codes")

    def __str__(self) -> str:
        return f"handoff to {self.instance_id} for {self.user_id}"


class GatewaySession(models.Model):
    """A browser's access to one instance's WebUI: the value of a host-only cookie on the
    instance's origin, stored as a digest. It never grants anything on another origin."""

    digest = models.CharField(max_length=64, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webui_sessions"
    )
    instance = models.ForeignKey(
        ServiceInstance, on_delete=models.CASCADE, related_name="webui_sessions"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    remote_addr = models.GenericIPAddressField(_("from address"), null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="webui_session_expiry")]
        verbose_name = _("WebUI session")
        verbose_name_plural = _("WebUI sessions")

    def __str__(self) -> str:
        return f"WebUI session of {self.user_id} on {self.instance_id}"


class WebUIUse(models.Model):
    """Who used an instance's WebUI through the gateway: requests that do work (generations,
    uploads, queue joins) and open generation streams. Also an activity signal for the idle
    policy."""

    instance = models.ForeignKey(
        ServiceInstance, on_delete=models.CASCADE, related_name="webui_uses"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webui_uses"
    )
    first_used_at = models.DateTimeField(_("first use"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last use"), default=timezone.now)
    request_count = models.PositiveBigIntegerField(_("requests"), default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["instance", "user"], name="webui_use_instance_user")
        ]
        # The idle job reads the newest use per instance since a moment.
        indexes = [models.Index(fields=["last_used_at"], name="webui_use_last_used")]
        ordering = ["-last_used_at"]
        verbose_name = _("WebUI use")
        verbose_name_plural = _("WebUI uses")

    def __str__(self) -> str:
        return f"{self.user_id} on {self.instance_id}"


class HostCertificate(models.Model):
    """The TLS certificate of a host's WebUI as nestops recorded it (at deploy, or by an
    operator): the gateway trusts exactly this certificate for the host, so the hop to a
    public IP is encrypted and pinned without any public CA."""

    instance = models.OneToOneField(
        ServiceInstance, on_delete=models.CASCADE, related_name="webui_certificate"
    )
    pem = models.TextField(_("certificate (PEM)"))
    sha256 = models.CharField(_("SHA-256 fingerprint"), max_length=64, editable=False)
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("WebUI host certificate")
        verbose_name_plural = _("WebUI host certificates")

    def __str__(self) -> str:
        return f"{self.instance_id}: {self.sha256[:16]}…"
