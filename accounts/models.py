"""Teams, memberships and roles, API tokens, user preferences and the audit trail."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from nestops.ids import new_public_id

TOKEN_PREFIX = "nst_"


class Role(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    OPERATOR = "operator", _("Operator")
    ADMIN = "admin", _("Admin")


# What each role may do, from least to most. A role includes the ones before it.
ROLE_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


class Team(models.Model):
    """A group of people who share service instances, budgets and settings."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = "nestops_team"
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in a team: viewers look, operators act, admins also manage the team."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = "nestops_membership"
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="membership_user_team_unique")
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


def member_team_ids(user: Any) -> list[int] | None:
    """Ids of the user's teams; None for a superuser, who sees every team."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return None
    return list(Membership.objects.filter(user=user).values_list("team_id", flat=True))


class TeamScopedQuerySet(models.QuerySet):
    """Rows of a model with a ``team`` foreign key."""

    def visible_to(self, user: Any) -> TeamScopedQuerySet:
        """The rows of the teams the user belongs to (all of them for a superuser).

        The user's teams are read first (a handful of ids) and then matched with an equality
        or a short IN list: the database walks a (team, newest first) index and stops after a
        page instead of sorting every row the user may see.
        """
        team_ids = member_team_ids(user)
        return self.all() if team_ids is None else self.filter(team_id__in=team_ids)


def new_token_id() -> str:
    return new_public_id("tk")


def token_digest(token: str) -> str:
    # Tokens carry 240 random bits, so a fast hash is enough: nobody can brute-force them.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self, now: datetime | None = None) -> ApiTokenQuerySet:
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A named bearer token of a user, shown once at creation and stored only as a digest."""

    public_id = models.CharField(
        _("id"), max_length=16, unique=True, default=new_token_id, editable=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        db_table = "nestops_apitoken"
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(
        cls, *, user: settings.AUTH_USER_MODEL, name: str, expires_at: datetime | None = None
    ) -> tuple[ApiToken, str]:
        """Creates a token; returns it with its plain value, which is never stored."""
        plain = TOKEN_PREFIX + secrets.token_urlsafe(30)
        token = cls.objects.create(
            user=user,
            name=name,
            prefix=plain[: len(TOKEN_PREFIX) + 6],
            digest=token_digest(plain),
            expires_at=expires_at,
        )
        return token, plain

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )


class AuditAction(models.TextChoices):
    CREDENTIALS_REVEALED = "credentials.revealed", _("Credentials revealed")
    TOKEN_CREATED = "token.created", _("API token created")
    TOKEN_REVOKED = "token.revoked", _("API token revoked")
    MEMBERSHIP_CHANGED = "membership.changed", _("Membership changed")
    INSTANCE_DRIFT = "instance.drift", _("Instance drift corrected")
    INSTANCE_UPDATED = "instance.updated", _("Instance settings changed")
    SOURCE_TOKEN_SET = "source_token.set", _("Model site token set")
    SOURCE_TOKEN_DELETED = "source_token.deleted", _("Model site token deleted")
    WEBUI_HANDOFF = "webui.handoff", _("WebUI opened through the gateway")
    CHANNEL_CHANGED = "channel.changed", _("Notification channel changed")
    FILE_SETTINGS_CHANGED = "file_settings.changed", _("Download settings changed")


class AuditEvent(models.Model):
    """Something a person (or the system, when ``actor`` is empty) did that must be traceable."""

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    action = models.CharField(_("action"), max_length=40, choices=AuditAction.choices)
    target = models.CharField(_("target"), max_length=64, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    remote_addr = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=200, blank=True)

    class Meta:
        db_table = "nestops_auditevent"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["team", "-created_at"], name="audit_team_time")]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.target}"


class UserPreference(models.Model):
    """What the dashboard remembers about a person: language, time zone, current team."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    language = models.CharField(_("language"), max_length=10, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    current_team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "nestops_userpreference"
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return f"preferences of {self.user}"
