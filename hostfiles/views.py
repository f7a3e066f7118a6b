"""The instance page's Models & extensions tab: what the host holds and what runs on it, and
the forms that download, delete, preview, install, update and remove (each an operation); and
the team's model site tokens page (set, replace, remove; never shown back)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role, Team
from accounts.permissions import has_role, require_role
from accounts.preferences import current_team
from accounts.requester import Requester, Source
from hostfiles import rules as file_rules
from hostfiles import services as host_files
from hostfiles.activity import dismiss_failure, host_file_activity, request_retry
from hostfiles.forms import DownloadForm, ExtensionForm, PreviewForm
from hostfiles.models import (
    TOKEN_PROVIDER_DOMAINS,
    Extension,
    HostDisk,
    ModelFile,
    ModelKind,
    SourceToken,
    TokenProvider,
)
from hostfiles.selectors import (
    download_defaults,
    extensions_on,
    model_files_on,
    server_download_defaults,
)
from instances.models import ServiceInstance, Status
from instances.selectors import visible_instance
from nestops.http import is_htmx
from operations.models import HOST_FILE_KINDS, Operation, OperationStatus
from operations.services import InvalidRequest, OperationRefused

PAGE_SIZE = 100
# Both forms have a "url" field (named as in the API); their element ids must still differ.
DOWNLOAD_IDS = "download-%s"
EXTENSION_IDS = "extension-%s"


def _page_context(request: HttpRequest, instance: ServiceInstance, **forms: Any) -> dict[str, Any]:
    kind = request.GET.get("kind", "")
    search = request.GET.get("q", "").strip()
    models = model_files_on(instance)
    if kind in ModelKind.values:
        models = models.filter(kind=kind)
    if search:
        models = models.filter(Q(path__icontains=search) | Q(public_id=search))
    activity = host_file_activity(instance)
    order = "size" if request.GET.get("order") == "size" else ""
    ordering = ("-size_bytes", "path") if order else ("kind", "path")
    return {
        "instance": instance,
        "models": Paginator(models.order_by(*ordering), PAGE_SIZE).get_page(
            request.GET.get("page")
        ),
        "order": order,
        "disk": HostDisk.objects.filter(instance=instance).first(),
        "extensions": extensions_on(instance).order_by("name"),
        "activity": activity,
        "live": any(item.operation.is_active for item in activity),
        "kinds": ModelKind.choices,
        "kind": kind,
        "q": search,
        "can_act": instance.status != Status.DELETED
        and has_role(request.user, instance.team, Role.OPERATOR),
        "running": instance.status == Status.RUNNING,
        "download_form": forms.get("download_form") or DownloadForm(auto_id=DOWNLOAD_IDS),
        "extension_form": forms.get("extension_form") or ExtensionForm(auto_id=EXTENSION_IDS),
        "preview_form": PreviewForm(),
    }


@login_required
def instance_files(request: HttpRequest, public_id: str) -> HttpResponse:
    instance = visible_instance(request.user, public_id)
    context = _page_context(request, instance)
    if is_htmx(request):
        if request.GET.get("was_live") and not context["live"]:
            # The last file operation ended: reload so the lists show its result.
            return HttpResponse(headers={"HX-Refresh": "true"})
        return render(request, "hostfiles/_files_live.html", context)
    return render(request, "hostfiles/files.html", context)


def _requested(
    request: HttpRequest, public_id: str, start: Callable[[], tuple[Operation, bool]]
) -> HttpResponse:
    """Starts an operation (``start()``), says how it went, and goes back to the tab."""
    try:
        operation, _created = start()
    except OperationRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(kind)s requested (%(operation)s).")
            % {"kind": operation.get_kind_display(), "operation": operation.public_id},
        )
    return redirect("hostfiles:files", public_id=public_id)


def _asked_by(request: HttpRequest) -> dict[str, Requester]:
    return {"requester": Requester.of(request, source=Source.DASHBOARD)}


@login_required
@require_POST
def files_action(request: HttpRequest, public_id: str, action: str) -> HttpResponse:
    """``download``, ``install`` and ``refresh`` on the instance."""
    instance = visible_instance(request.user, public_id)
    require_role(request.user, instance.team, Role.OPERATOR)
    if action == "download":
        form = DownloadForm(request.POST, auto_id=DOWNLOAD_IDS)
        if not form.is_valid():
            context = _page_context(request, instance, download_form=form)
            return render(request, "hostfiles/files.html", context, status=400)
        return _requested(
            request,
            public_id,
            lambda: host_files.request_download(
                instance=instance, **form.cleaned_data, **_asked_by(request)
            ),
        )
    if action == "install":
        form = ExtensionForm(request.POST, auto_id=EXTENSION_IDS)
        if not form.is_valid():
            context = _page_context(request, instance, extension_form=form)
            return render(request, "hostfiles/files.html", context, status=400)
        return _requested(
            request,
            public_id,
            lambda: host_files.request_extension_install(
                instance=instance, **form.cleaned_data, **_asked_by(request)
            ),
        )
    if action == "refresh":
        return _requested(
            request,
            public_id,
            lambda: host_files.request_inventory_refresh(instance=instance, **_asked_by(request)),
        )
    raise Http404


@login_required
@require_POST
def model_action(request: HttpRequest, public_id: str, model_id: str, action: str) -> HttpResponse:
    """``delete`` a model file or set its ``preview``."""
    instance = visible_instance(request.user, public_id)
    require_role(request.user, instance.team, Role.OPERATOR)
    model_file = get_object_or_404(ModelFile, instance=instance, public_id=model_id)
    if action == "delete":
        return _requested(
            request,
            public_id,
            lambda: host_files.request_model_delete(model_file=model_file, **_asked_by(request)),
        )
    if action == "preview":
        form = PreviewForm(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(
                request,
                _("%(name)s: %(error)s")
                % {"name": model_file.name, "error": " ".join(form.errors["image"])},
            )
            return redirect("hostfiles:files", public_id=public_id)
        return _requested(
            request,
            public_id,
            lambda: host_files.request_preview(
                model_file=model_file, png=form.cleaned_data["image"], **_asked_by(request)
            ),
        )
    raise Http404


@login_required
@require_POST
def extension_action(
    request: HttpRequest, public_id: str, extension_id: str, action: str
) -> HttpResponse:
    """``update`` (optionally to another ref) or ``remove`` an extension."""
    instance = visible_instance(request.user, public_id)
    require_role(request.user, instance.team, Role.OPERATOR)
    extension = get_object_or_404(Extension, instance=instance, public_id=extension_id)
    restart = bool(request.POST.get("restart_webui"))
    if action == "update":
        ref = request.POST.get("ref", "").strip()
        return _requested(
            request,
            public_id,
            lambda: host_files.request_extension_update(
                extension=extension, ref=ref or None, restart_webui=restart, **_asked_by(request)
            ),
        )
    if action == "remove":
        return _requested(
            request,
            public_id,
            lambda: host_files.request_extension_remove(
                extension=extension, restart_webui=restart, **_asked_by(request)
            ),
        )
    raise Http404


@login_required
@require_POST
def activity_action(
    request: HttpRequest, public_id: str, operation_id: str, action: str
) -> HttpResponse:
    """``retry`` or ``dismiss`` a failed file operation of the instance."""
    instance = visible_instance(request.user, public_id)
    require_role(request.user, instance.team, Role.OPERATOR)
    operation = get_object_or_404(
        Operation,
        instance=instance,
        public_id=operation_id,
        kind__in=HOST_FILE_KINDS,
        status=OperationStatus.FAILED,
    )
    if action == "retry":
        return _requested(
            request,
            public_id,
            lambda: request_retry(operation=operation, **_asked_by(request)),
        )
    if action == "dismiss":
        dismiss_failure(operation=operation, **_asked_by(request))
        return redirect("hostfiles:files", public_id=public_id)
    raise Http404


# --- the team's model site tokens --------------------------------------------------------


def _save_token(request: HttpRequest, team: Team) -> None:
    provider = request.POST.get("provider", "")
    if provider not in TokenProvider.values:
        messages.error(request, _("Choose Civitai, Hugging Face or ModelScope."))
        return
    label = TokenProvider(provider).label
    requester = Requester.of(request, source=Source.DASHBOARD)
    if request.POST.get("remove"):
        host_files.delete_source_token(team=team, provider=provider, requester=requester)
        messages.success(request, _("The %(site)s token was removed.") % {"site": label})
        return
    try:
        host_files.set_source_token(
            team=team, provider=provider, token=request.POST.get("token", ""), requester=requester
        )
    except ValidationError as exc:
        messages.error(request, f"{label}: {' '.join(exc.messages)}")
        return
    messages.success(request, _("The %(site)s token was saved.") % {"site": label})


@login_required
def model_site_tokens(request: HttpRequest) -> HttpResponse:
    """Members see which tokens are set, by whom and when; team admins set and remove them."""
    team = current_team(request)
    is_admin = team is not None and has_role(request.user, team, Role.ADMIN)
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied(_("Only team admins manage the model site tokens."))
        _save_token(request, team)
        return redirect("hostfiles:tokens")
    rows = {}
    if team is not None:
        rows = {
            row.provider: row
            for row in SourceToken.objects.filter(team=team).select_related("updated_by")
        }
    providers = [
        {
            "value": value,
            "label": label,
            "domains": ", ".join(TOKEN_PROVIDER_DOMAINS[value]),
            # The Hugging Face token also goes to the endpoint the operator set for the server.
            "endpoint": settings.NESTOPS_HUGGINGFACE_ENDPOINT
            if value == TokenProvider.HUGGINGFACE
            else "",
            "row": rows.get(value),
        }
        for value, label in TokenProvider.choices
    ]
    return render(
        request,
        "hostfiles/tokens.html",
        {"team": team, "is_admin": is_admin, "providers": providers},
    )


@login_required
def download_settings(request: HttpRequest) -> HttpResponse:
    """The team's download settings as they apply (its own value, else the server's default,
    saying which); team admins change them. The server's limits are shown alongside."""
    team = current_team(request)
    is_admin = team is not None and has_role(request.user, team, Role.ADMIN)
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied(_("Only team admins change the download settings."))
        try:
            host_files.set_download_settings(
                team=team,
                github_mirror=request.POST.get("github_mirror", ""),
                huggingface_endpoint=request.POST.get("huggingface_endpoint", ""),
                download_connections=request.POST.get("download_connections", ""),
                requester=Requester.of(request, source=Source.DASHBOARD),
            )
        except InvalidRequest as exc:
            for field_messages in exc.details.values():
                for message in field_messages:
                    messages.error(request, message)
        else:
            messages.success(request, _("The download settings were saved."))
        return redirect("hostfiles:download-settings")
    defaults = download_defaults(team.pk if team is not None else None)
    server = server_download_defaults()
    row = defaults.row
    return render(
        request,
        "hostfiles/download_settings.html",
        {
            "team": team,
            "is_admin": is_admin,
            "defaults": defaults,
            "effective": [
                (_("GitHub mirror"), defaults.github_mirror),
                (_("Hugging Face endpoint"), defaults.huggingface_endpoint),
                (_("Connections per download"), defaults.connections),
            ],
            "github_mirror": row.github_mirror if row is not None else "",
            "huggingface_endpoint": row.huggingface_endpoint if row is not None else "",
            "download_connections": row.download_connections if row is not None else None,
            "server_mirror": server.github_mirror,
            "server_endpoint": server.huggingface_endpoint,
            "server_connections": server.connections,
            "max_connections": file_rules.MAX_CONNECTIONS,
            "token_to_server_endpoint": bool(settings.NESTOPS_HUGGINGFACE_ENDPOINT),
            "max_bytes": settings.NESTOPS_DOWNLOAD_MAX_BYTES,
            "extension_hosts": ", ".join(settings.NESTOPS_EXTENSION_HOSTS),
            "suffixes": " ".join(settings.NESTOPS_MODEL_EXTENSIONS),
        },
    )
