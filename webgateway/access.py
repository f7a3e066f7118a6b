"""The gateway's auth contract: may this request reach this instance's WebUI, and where to.

One decision serves the Python gateway and nginx ``auth_request``. Who may use a WebUI:
operators and admins of the instance's team (and superusers); viewers may look at the
dashboard but not generate; anyone else is told the instance does not exist.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.authentication import LAST_USED_RESOLUTION
from accounts.models import ApiToken, Role, token_digest
from accounts.permissions import has_role, role_of
from instances.models import ServiceInstance, Status
from instances.webui import owned_endpoint
from webgateway import origins
from webgateway.models import GatewaySession, secret_digest

# The role a user needs in the instance's team to use its WebUI.
WEBUI_ROLE = Role.OPERATOR


@dataclass
class GatewayRequest:
    """What the gateway (or nginx) tells Django about the request it holds."""

    host: str
    method: str
    uri: str
    proto: str = "http"
    cookie: str = ""
    authorization: str = ""
    origin: str = ""
    upgrade: bool = False
    stream_open: bool = False


@dataclass
class Decision:
    status: int
    code: str
    message: str = ""
    instance: ServiceInstance | None = None
    user: Any = None
    via: str = ""
    upstream: str = ""
    retry_after: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return self.status == 200


def _token_user(value: str) -> tuple[Any, ApiToken] | None:
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(value)).first()
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user, token


def _bearer_or_basic(header: str) -> str | None:
    """The token in ``Bearer <token>`` or ``Basic base64(any-user:<token>)``; None if
    malformed."""
    scheme, _sep, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value if value and " " not in value else None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _user, sep, password = decoded.partition(":")
        return password if sep and password else None
    return None


def _session_value(cookie_header: str) -> str:
    for part in cookie_header.split(";"):
        name, _sep, value = part.strip().partition("=")
        if name == origins.COOKIE_NAME:
            return value.strip().strip('"')
    return ""


def _identify(req: GatewayRequest, instance_id: str) -> Decision | tuple[Any, str, Any]:
    if req.authorization:
        value = _bearer_or_basic(req.authorization)
        found = _token_user(value) if value else None
        if found is None:
            return Decision(401, "invalid_token", _("Invalid, expired or revoked token."))
        return found[0], "token", found[1]
    value = _session_value(req.cookie)
    if not value:
        return Decision(401, "not_authenticated", _("Open this WebUI from the nestops dashboard."))
    session = (
        GatewaySession.objects.select_related("user", "instance")
        .filter(digest=secret_digest(value), expires_at__gt=timezone.now())
        .first()
    )
    if session is None or session.instance.public_id != instance_id or not session.user.is_active:
        return Decision(
            401, "session_expired", _("Your WebUI session has ended: open it again from nestops.")
        )
    return session.user, "session", session


def may_use_webui(user: Any, instance: ServiceInstance) -> bool | None:
    """True if the user may use the WebUI, False if a member without the role, None if not a
    member at all."""
    if role_of(user, instance.team) is None:
        return None
    return has_role(user, instance.team, WEBUI_ROLE)


def owned_upstream(instance: ServiceInstance) -> str | None:
    """The instance's WebUI base URL if it points at an address the instance owns."""
    return owned_endpoint(instance)


def cleartext_over_internet(upstream: str) -> bool:
    """Whether the WebUI's credentials would cross the internet in clear text: plain HTTP to a
    global address, unless an operator explicitly allowed it."""
    parts = urlsplit(upstream)
    if parts.scheme != "http" or settings.NESTOPS_GATEWAY_ALLOW_CLEARTEXT_HOPS:
        return False
    try:
        return ipaddress.ip_address(parts.hostname or "").is_global
    except ValueError:
        return True  # a name could resolve anywhere


def _rate_limited(token: ApiToken) -> int | None:
    """Seconds to wait when the token used its requests of this minute, else None."""
    limit = settings.NESTOPS_GATEWAY_TOKEN_RATE_PER_MINUTE
    if not limit:
        return None
    now = timezone.now()
    key = f"webgateway:rate:{token.pk}:{int(now.timestamp()) // 60}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    return None if count <= limit else 60 - now.second


def _lifecycle(instance: ServiceInstance) -> Decision | None:
    if instance.status == Status.DELETED:
        return Decision(410, "instance_deleted", _("This instance was deleted."), instance)
    if instance.status != Status.RUNNING:
        return Decision(
            409,
            "instance_not_running",
            _("This instance is %(status)s.") % {"status": instance.get_status_display().lower()},
            instance,
            details={"status": instance.status},
        )
    return None


def decide(req: GatewayRequest) -> Decision:
    """Whether the request may reach the WebUI of the instance its Host names."""
    instance_id = origins.instance_id_from_host(req.host)
    if instance_id is None:
        return Decision(400, "bad_host", _("This address does not name a nestops instance."))
    why = origins.unsafe_path(req.uri)
    if why:
        return Decision(400, "bad_path", why)
    identity = _identify(req, instance_id)
    if isinstance(identity, Decision):
        return identity
    user, via, credential = identity
    instance = ServiceInstance.objects.select_related("team").filter(public_id=instance_id).first()
    allowed = may_use_webui(user, instance) if instance is not None else None
    if instance is None or allowed is None:
        return Decision(404, "unknown_instance", _("There is no such instance."), user=user)
    if not allowed:
        return Decision(
            403, "role", _("Only operators and admins of the team can use this WebUI."), instance
        )
    own_origin = f"{req.proto}://{req.host}".lower()
    if (
        req.origin
        and (req.upgrade or origins.is_state_changing(req.method))
        and req.origin.lower() != own_origin
    ):
        return Decision(403, "cross_origin", _("Cross-site requests are refused."), instance)
    refused = _lifecycle(instance)
    if refused is not None:
        refused.user, refused.via = user, via
        return refused
    upstream = owned_upstream(instance)
    if upstream is None:
        return Decision(503, "not_ready", _("The WebUI has no reachable address yet."), instance)
    if cleartext_over_internet(upstream):
        return Decision(
            503,
            "cleartext_hop",
            _(
                "The host's WebUI is reached over the internet without TLS; nestops will not "
                "send its credentials that way (see docs/gateway.md)."
            ),
            instance,
        )
    # A report of an open stream or a waiting generation is not another request of the client.
    if via == "token" and not req.stream_open and (wait := _rate_limited(credential)) is not None:
        return Decision(429, "rate_limited", _("Too many requests."), instance, retry_after=wait)
    return Decision(200, "ok", "", instance, user, via, upstream)
