"""The dashboard's operations pages: the team's operations, one operation, cancel."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import has_role
from accounts.preferences import current_team
from accounts.requester import Source
from operations.api.filters import OperationFilter
from operations.models import ACTIVE_STATUSES, Kind, Operation, OperationStatus
from operations.selectors import visible_operation
from operations.services import OperationRefused, cancel_operation

PAGE_SIZE = 50


@login_required
def operation_list(request: HttpRequest) -> HttpResponse:
    team = current_team(request)
    operations = Operation.objects.none()
    if team is not None:
        operations = (
            Operation.objects.filter(team=team)
            .select_related("instance", "actor")
            .defer("log", "state")
            .order_by("-created_at")
        )
    keys = ("instance", "kind", "status", "source", "since", "until")
    filters = {key: request.GET.get(key, "").strip() for key in keys}
    chosen = OperationFilter(request.GET, queryset=operations)
    operations = chosen.qs
    page = Paginator(operations, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    context = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "kinds": Kind.choices,
        "statuses": OperationStatus.choices,
        "sources": Source.choices,
        "live": any(o.status in ACTIVE_STATUSES for o in rows),
        "filtered": any(filters.values()),
        "filter_errors": chosen.errors,
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "operations/_rows.html", context)
    return render(request, "operations/list.html", context)


@login_required
def operation_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    operation = visible_operation(request.user, public_id)
    context = {
        "operation": operation,
        "live": operation.is_active,
        "can_act": has_role(request.user, operation.team, Role.OPERATOR),
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "operations/_detail_live.html", context)
    return render(request, "operations/detail.html", context)


@login_required
@require_POST
def operation_cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    operation = visible_operation(request.user, public_id)
    if not has_role(request.user, operation.team, Role.OPERATOR):
        raise PermissionDenied(_("Your role in this team does not allow this action."))
    try:
        cancel_operation(operation=operation, actor=request.user)
    except OperationRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Cancel requested."))
    return redirect("operations:detail", public_id=public_id)
