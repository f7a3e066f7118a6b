"""The dashboard's "Open WebUI" and the endpoints behind the gateway (``/gateway/*``: reached
only by the gateway process or nginx, which prove it with the shared secret)."""

from __future__ import annotations

import base64
import hmac
import ipaddress
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.models import UserPreference
from accounts.requester import Requester, Source
from instances.models import Status
from instances.selectors import visible_instance
from operations.models import Kind
from operations.services import OperationRefused, request_operation
from webgateway import origins
from webgateway.access import Decision, GatewayRequest, decide, may_use_webui
from webgateway.models import HostCertificate
from webgateway.services import HandoffRefused, exchange_handoff, issue_handoff, record_use

Handler = Callable[[HttpRequest], HttpResponse]


@never_cache
@login_required
@require_GET
def open_webui(request: HttpRequest, public_id: str) -> HttpResponse:
    """Hands the dashboard session over to the instance's origin with a one-time code."""
    instance = visible_instance(request.user, public_id)
    if not may_use_webui(request.user, instance):
        raise PermissionDenied(_("Only operators and admins of the team can use this WebUI."))
    next_path = request.GET.get("next", "/")
    code = issue_handoff(user=request.user, instance=instance, next_path=next_path)
    query = urlencode({"code": code})
    return redirect(
        f"{origins.webui_origin(instance.public_id)}{origins.NESTOPS_PREFIX}handoff?{query}"
    )


def _from_gateway(view: Handler) -> Handler:
    """Only the gateway (or nginx) may call: it sends the shared secret."""

    def wrapped(request: HttpRequest) -> HttpResponse:
        sent = request.headers.get("X-Nestops-Gateway-Secret", "")
        if not hmac.compare_digest(sent.encode(), settings.NESTOPS_GATEWAY_SECRET.encode()):
            return JsonResponse(
                {"code": "forbidden", "message": "Not a gateway.", "details": {}}, status=403
            )
        return view(request)

    return never_cache(csrf_exempt(wrapped))


def client_address(request: HttpRequest) -> str | None:
    """The browser's address: the last X-Forwarded-For entry, the one the gateway (or nginx)
    added itself; earlier entries are whatever the client claimed."""
    last = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(last))
    except ValueError:
        return None


def gateway_request(request: HttpRequest, *, uri: str | None = None) -> GatewayRequest:
    headers = request.headers
    return GatewayRequest(
        host=headers.get("X-Forwarded-Host", ""),
        method=headers.get("X-Original-Method", request.method or "GET"),
        uri=uri if uri is not None else headers.get("X-Original-URI", "/"),
        proto="https" if headers.get("X-Forwarded-Proto", "http") == "https" else "http",
        cookie=headers.get("Cookie", ""),
        authorization=headers.get("Authorization", ""),
        origin=headers.get("Origin", ""),
        upgrade=headers.get("Upgrade", "").lower() == "websocket",
        stream_open=headers.get("X-Nestops-Stream", "") == "open",
    )


def _wants_html(request: HttpRequest, decision: Decision) -> bool:
    return decision.via != "token" and "text/html" in request.headers.get("Accept", "")


def refusal(request: HttpRequest, decision: Decision, *, status: int | None = None) -> HttpResponse:
    """The page (browsers) or JSON error (API clients) that explains a refusal."""
    status = status or decision.status
    if _wants_html(request, decision):
        instance = decision.instance
        lifecycle = decision.code == "instance_not_running" and instance is not None
        response = render(
            request,
            "webgateway/page.html",
            {
                "decision": decision,
                "instance": instance,
                "can_start": lifecycle and instance.status == Status.STOPPED,
                "waiting": lifecycle
                and instance.status
                in (Status.STARTING, Status.DEPLOYING, Status.RESTARTING, Status.STOPPING),
                "prefix": origins.NESTOPS_PREFIX,
            },
            status=status,
        )
    else:
        details = dict(decision.details)
        if decision.instance is not None:
            details.setdefault("instance", decision.instance.public_id)
        response = JsonResponse(
            {"code": decision.code, "message": decision.message, "details": details},
            status=status,
        )
    if decision.retry_after is not None:
        response["Retry-After"] = str(decision.retry_after)
    if decision.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="nestops"'
    return response


@_from_gateway
def auth(request: HttpRequest) -> HttpResponse:
    """The auth contract: 200 with the upstream and its credentials, or the refusal. With
    ``X-Nestops-Auth-Mode: nginx`` every refusal is a 401 or 403 (what ``auth_request``
    understands); nginx then shows ``/gateway/page``."""
    req = gateway_request(request)
    decision = decide(req)
    nginx = request.headers.get("X-Nestops-Auth-Mode") == "nginx"
    pem = ""
    if decision.allowed and decision.upstream.startswith("https://"):
        pinned = HostCertificate.objects.filter(instance=decision.instance)
        pem = pinned.values_list("pem", flat=True).first() or ""
        if pem and nginx:
            # nginx cannot check a per-host pin: it would send the credentials to whoever
            # answers at the host's address.
            decision = Decision(
                503,
                "unpinned_hop",
                _(
                    "This host's WebUI is reached over TLS with a pinned certificate, which "
                    "nginx cannot check; use the nestops gateway or the private IP (see "
                    "docs/gateway.md)."
                ),
                decision.instance,
            )
    if not decision.allowed:
        status = None
        if nginx:
            status = 401 if decision.status == 401 else 403
        return in_users_language(request, req, decision, status)
    instance = decision.instance
    # A report of a stream that is still open is activity, not another request.
    work = origins.is_work(req.method, req.uri) and not req.stream_open
    if work or req.stream_open:
        record_use(instance_id=instance.pk, user_id=decision.user.pk, requests=int(work))
    credentials = base64.b64encode(
        f"{instance.webui_user}:{instance.webui_password}".encode()
    ).decode("ascii")
    response = HttpResponse(status=200)
    response["X-Nestops-Upstream"] = decision.upstream
    response["X-Nestops-Upstream-Authorization"] = f"Basic {credentials}"
    response["X-Nestops-User"] = decision.user.get_username()
    response["X-Nestops-Instance"] = instance.public_id
    if pem:
        # The only certificate the gateway will accept from this host.
        response["X-Nestops-Upstream-Certificate"] = base64.b64encode(pem.encode()).decode()
    cacheable = decision.via == "session" and not work
    seconds = str(settings.NESTOPS_GATEWAY_AUTH_CACHE_SECONDS if cacheable else 0)
    response["X-Nestops-Cache-Seconds"] = seconds
    response["X-Accel-Expires"] = seconds  # nginx's proxy_cache of auth answers
    return response


@_from_gateway
def page(request: HttpRequest) -> HttpResponse:
    """What nginx shows after ``auth_request`` refused: the full refusal with its real status."""
    req = gateway_request(request)
    return in_users_language(request, req, decide(req), None)


def in_users_language(
    request: HttpRequest, req: GatewayRequest, decision: Decision, status: int | None
) -> HttpResponse:
    """The refusal in the language the user chose on the dashboard (the gateway's origin has
    no language of its own)."""
    language = (
        UserPreference.objects.filter(user=decision.user).values_list("language", flat=True).first()
        if decision.user is not None
        else None
    )
    if not language or language not in dict(settings.LANGUAGES):
        return refusal(request, decision, status=status)
    with translation.override(language):
        return refusal(request, decide(req), status=status)


@_from_gateway
@require_GET
def handoff(request: HttpRequest) -> HttpResponse:
    """Exchanges the one-time code for a host-only cookie on the instance's origin."""
    req = gateway_request(request, uri="/")
    instance_id = origins.instance_id_from_host(req.host)
    try:
        plain, next_path = exchange_handoff(
            code=request.GET.get("code", ""),
            instance_public_id=instance_id or "",
            remote_addr=client_address(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
    except HandoffRefused:
        decision = Decision(
            400, "handoff_refused", _("This link was used or has expired: open the WebUI again.")
        )
        return refusal(request, decision)
    response = redirect(next_path)
    # No Domain attribute: the cookie belongs to this instance's host only.
    response.set_cookie(
        origins.COOKIE_NAME,
        plain,
        max_age=int(settings.NESTOPS_GATEWAY_SESSION_HOURS * 3600),
        httponly=True,
        samesite="Lax",
        secure=req.proto == "https",
        path="/",
    )
    return response


def _lifecycle_decision(request: HttpRequest, uri: str) -> Decision:
    return decide(gateway_request(request, uri=uri))


@_from_gateway
@require_GET
def status(request: HttpRequest) -> JsonResponse | HttpResponse:
    """The instance's status for the waiting page (it reloads when the host runs)."""
    decision = _lifecycle_decision(request, f"{origins.NESTOPS_PREFIX}status")
    if decision.status not in (200, 409, 410, 503):
        return refusal(request, decision)
    instance = decision.instance
    payload: dict[str, Any] = {"status": instance.status, "ready": decision.allowed}
    return JsonResponse(payload)


@_from_gateway
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    """Starts a stopped instance from its WebUI address, then waits on it."""
    decision = _lifecycle_decision(request, f"{origins.NESTOPS_PREFIX}start")
    if decision.status != 409 or decision.instance.status != Status.STOPPED:
        if decision.allowed:
            return redirect("/")
        return refusal(request, decision)
    try:
        request_operation(
            instance=decision.instance,
            kind=Kind.START,
            requester=Requester(
                source=Source.DASHBOARD, actor=decision.user, address=client_address(request)
            ),
        )
    except OperationRefused as exc:
        return refusal(request, Decision(409, "refused", exc.message, decision.instance))
    return redirect("/")
