"""The dashboard's instance pages: list, create wizard, instance page and its actions."""

from __future__ import annotations

import contextlib
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import has_role, require_role
from accounts.preferences import current_team
from accounts.requester import Requester, Source
from autostop.selectors import related
from autostop.status import idle_status
from billing import quotes
from billing import views as billing_pages
from billing.forms import UsageForm
from billing.selectors import with_costs
from cloud import CloudError
from instances import catalog
from instances.api.filters import InstanceFilter
from instances.api.views import active_lifecycle_prefetch
from instances.forms import InstanceForm, disk_and_bandwidth
from instances.models import ChargeType, ServiceInstance, Status, StopMode
from instances.selectors import visible_instance
from instances.services import reveal_credentials
from nestops.errors import Refused
from nestops.http import is_htmx
from operations.models import Kind, Operation
from operations.services import OperationRefused, request_deploy, request_operation
from operations.stops import stop_causes

PAGE_SIZE = 50
TIMELINE_LENGTH = 20
TIMELINE_LOGS = 5


# --- list --------------------------------------------------------------------------------------


@login_required
def instance_list(request: HttpRequest) -> HttpResponse:
    team = current_team(request)
    instances = ServiceInstance.objects.none()
    if team is not None:
        instances = with_costs(
            ServiceInstance.objects.filter(team=team)
            .select_related("team", "idle_evaluation")
            .prefetch_related(active_lifecycle_prefetch())
            .order_by("-created_at", "-id")
        )
    filters = InstanceFilter(request.GET, queryset=instances)
    instances = filters.qs
    chosen = {key: request.GET.get(key, "").strip() for key in ("status", "region", "search")}
    page = Paginator(instances, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    causes = stop_causes(rows)
    for row in rows:
        # "idle for 23 min, stops in 7 min": from the evaluation joined to the row.
        row.idle = idle_status(row, related(row, "idle_evaluation"))
        row.stopped_by = causes.get(row.pk, "")
    for row_region in {i.region for i in rows}:
        # GPU names come from the cached catalog; an unreachable cloud only hides them.
        with contextlib.suppress(CloudError):
            catalog.gpu_types(row_region)
    context = {
        "page": page,
        "rows": rows,
        "live": any(getattr(i, "active_lifecycle", None) for i in rows)
        or any(i.status in (Status.DEPLOYING, Status.DELETING) for i in rows),
        **chosen,
        "filter_errors": filters.errors,
        "statuses": Status.choices,
        "regions": sorted(
            set(
                ServiceInstance.objects.filter(team=team)
                .values_list("region", flat=True)
                .distinct()
            )
            if team
            else set()
        ),
        "can_act": team is not None and has_role(request.user, team, Role.OPERATOR),
        "filtered": any(chosen.values()),
    }
    template = "instances/_rows.html" if is_htmx(request) else "instances/list.html"
    return render(request, template, context)


# --- create ------------------------------------------------------------------------------------


def _wizard_context(request: HttpRequest, form: InstanceForm) -> dict[str, Any]:
    data = form.data if form.is_bound else {}
    region = data.get("region") or (form.fields["region"].choices or [("", "")])[0][0]
    zone = data.get("zone") or (form.fields["zone"].choices or [("", "")])[0][0]
    charge_type = data.get("charge_type") or ChargeType.POSTPAID
    return {
        "form": form,
        "usage_form": UsageForm(data or None, initial={"usage": "hours"}),
        **_types_context(
            region,
            zone,
            charge_type,
            data.get("period") or "1",
            data.get("instance_type", ""),
            # The fields' values: the posted ones, or those a link (?system_disk_size=…) set.
            disk_and_bandwidth(data or form.initial),
        ),
        "summary": _summary(form, data) if data else None,
    }


def _priced(
    offers: list[catalog.Offer],
    *,
    region: str,
    zone: str,
    charge_type: str,
    months: int = 1,
    disk: dict[str, Any],
) -> list[tuple[catalog.Offer, Any]]:
    """Each offer with its price for the chosen system disk and bandwidth (``disk``, as
    ``forms.disk_and_bandwidth`` gives them), sorted by GPU (model,
    count), memory, then price."""
    priced = [
        (
            offer,
            quotes.summary(
                quotes.key_for(
                    region=region,
                    zone=zone,
                    instance_type=offer.instance_type,
                    charge_type=charge_type,
                    period=months,
                    period_unit="Month",
                    **disk,
                )
            ),
        )
        for offer in offers
    ]

    def order(pair: tuple[catalog.Offer, Any]) -> tuple[Any, ...]:
        offer, price = pair
        amount = price.per_month if charge_type == "PrePaid" else price.per_hour
        return (
            offer.gpu_spec,
            offer.gpu_amount,
            offer.memory_gib,
            amount if amount is not None else float("inf"),
            offer.instance_type,
        )

    return sorted(priced, key=order)


def _types_context(
    region: str,
    zone: str,
    charge_type: str,
    period: str,
    selected: str,
    disk: dict[str, Any],
) -> dict[str, Any]:
    offers = catalog.offers(region, zone, charge_type) if region and zone else []
    try:
        months = int(period)
    except ValueError:
        months = 1
    priced = _priced(
        offers,
        region=region,
        zone=zone,
        charge_type=charge_type,
        months=months,
        disk=disk,
    )
    return {"offers": priced, "selected_type": selected, "charge_type": charge_type}


def _summary(form: InstanceForm, data: Any) -> dict[str, Any]:
    region, zone, instance_type = data.get("region"), data.get("zone"), data.get("instance_type")
    charge_type = data.get("charge_type") or ChargeType.POSTPAID
    price = None
    if region and zone and instance_type:
        try:
            period = int(data.get("period") or 1)
        except ValueError:
            period = 1
        price = quotes.summary(
            quotes.key_for(
                region=region,
                zone=zone,
                instance_type=instance_type,
                charge_type=charge_type,
                period=period,
                period_unit="Month",
                **disk_and_bandwidth(data),
            )
        )
    return {
        **disk_and_bandwidth(data),
        "name": data.get("name", ""),
        "region": region,
        "zone": zone,
        "instance_type": instance_type,
        "charge_type": charge_type,
        "period": data.get("period"),
        "network": data.get("network", "new"),
        "vpc_cidr": data.get("vpc_cidr"),
        "vswitch_cidr": data.get("vswitch_cidr"),
        "vpc_id": data.get("vpc_id"),
        "vswitch_id": data.get("vswitch_id"),
        "public_access": bool(data.get("public_access")),
        "price": price,
        # Pay-as-you-go for the usage profile against a subscription (billing's quotes: the
        # price read here is the one the ledger charges once the host is deployed).
        "estimate": billing_pages.wizard_estimate(data),
    }


@never_cache
@login_required
def instance_create(request: HttpRequest) -> HttpResponse:
    team = current_team(request)
    if team is None or not has_role(request.user, team, Role.OPERATOR):
        raise PermissionDenied(_("You need the operator role in a team to deploy instances."))
    if request.method == "POST":
        form = InstanceForm(request.POST, team=team)
        if form.is_valid():
            try:
                instance, _operation = request_deploy(
                    spec=form.new_instance(),
                    requester=Requester.of(request, source=Source.DASHBOARD),
                )
            except Refused as exc:
                # The cloud account may not deploy (missing RAM policies): say what to grant.
                form.add_error(None, exc.message)
                return render(
                    request, "instances/create.html", _wizard_context(request, form), status=409
                )
            messages.success(
                request, _("Deploying %(name)s. This page follows it.") % {"name": instance.name}
            )
            return redirect("instances:detail", public_id=instance.public_id)
        status = 400
    else:
        form = InstanceForm(team=team, initial=request.GET.dict())
        status = 200
    return render(request, "instances/create.html", _wizard_context(request, form), status=status)


@login_required
def wizard_zones(request: HttpRequest) -> HttpResponse:
    team = current_team(request)
    if team is None:
        raise PermissionDenied
    form = InstanceForm(team=team, initial={"region": request.GET.get("region", "")})
    zone = (form.fields["zone"].choices or [("", "")])[0][0]
    return render(
        request,
        "instances/_zone_and_types.html",
        {
            "form": form,
            "zone": zone,
            **_types_context(
                request.GET.get("region", ""),
                zone,
                request.GET.get("charge_type", "PostPaid"),
                "1",
                "",
                disk_and_bandwidth(request.GET),
            ),
        },
    )


@login_required
def wizard_types(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "instances/_types.html",
        _types_context(
            request.GET.get("region", ""),
            request.GET.get("zone", ""),
            request.GET.get("charge_type", "PostPaid"),
            request.GET.get("period", "1"),
            request.GET.get("instance_type", ""),
            disk_and_bandwidth(request.GET),
        ),
    )


@never_cache
@login_required
@require_POST
def wizard_summary(request: HttpRequest) -> HttpResponse:
    team = current_team(request)
    if team is None:
        raise PermissionDenied
    form = InstanceForm(request.POST, team=team)
    return render(request, "instances/_summary.html", {"summary": _summary(form, request.POST)})


# --- the instance page -------------------------------------------------------------------------


def _detail_context(
    request: HttpRequest, instance: ServiceInstance, *, full: bool = True
) -> dict[str, Any]:
    """The instance page's context; ``full`` adds what only the whole page shows (the cost
    card reads the ledger and draws a chart: not for every 2-second refresh)."""
    operations = list(
        Operation.objects.filter(instance=instance)
        .select_related("actor")
        .defer("log", "state")
        .order_by("-created_at")[:TIMELINE_LENGTH]
    )
    # Logs run to 64 KB each and this part is refreshed every 2 s: the newest operations show
    # theirs, the older ones link to their own page.
    logs = dict(
        Operation.objects.filter(pk__in=[o.pk for o in operations[:TIMELINE_LOGS]]).values_list(
            "pk", "log"
        )
    )
    for operation in operations:
        operation.timeline_log = logs.get(operation.pk)
    # A deleted host keeps its page for the record: nothing on it can be acted on.
    can_act = instance.status != Status.DELETED and has_role(
        request.user, instance.team, Role.OPERATOR
    )
    instance.stopped_by = stop_causes([instance]).get(instance.pk, "")
    active = [o for o in operations if o.is_active]
    resize_offers = []
    if full and can_act and instance.status == Status.STOPPED and not instance.is_prepaid:
        with contextlib.suppress(CloudError):  # the page renders even if the cloud is down
            resize_offers = _priced(
                [
                    o
                    for o in catalog.offers(instance.region, instance.zone, instance.charge_type)
                    if o.instance_type != instance.instance_type
                ],
                region=instance.region,
                zone=instance.zone,
                charge_type=instance.charge_type,
                disk={
                    "system_disk_category": instance.system_disk_category,
                    "system_disk_size": instance.system_disk_size,
                    "bandwidth_out": instance.bandwidth_out,
                },
            )
    return {
        "instance": instance,
        "billing": billing_pages.instance_card(instance) if full else None,
        "bandwidth_while_stopped": settings.NESTOPS_BILL_BANDWIDTH_WHILE_STOPPED,
        "operations": operations,
        "live": bool(active) or instance.status in (Status.DEPLOYING, Status.DELETING),
        "can_act": can_act,
        "resize_offers": resize_offers,
        "stop_modes": StopMode.choices,
        "Status": Status,
    }


@login_required
def instance_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    instance = visible_instance(request.user, public_id)
    context = _detail_context(request, instance, full=not is_htmx(request))
    if is_htmx(request):
        if request.GET.get("was_live") and not context["live"]:
            # The operation just ended: reload the page so every fact on it is current.
            return HttpResponse(headers={"HX-Refresh": "true"})
        return render(request, "instances/_live.html", context)
    from autostop.views import idle_context

    context.update(idle_context(request, instance))
    return render(request, "instances/detail.html", context)


ACTIONS = {
    "start": Kind.START,
    "stop": Kind.STOP,
    "restart": Kind.RESTART,
    "resize": Kind.RESIZE,
    "delete": Kind.DELETE,
    "redeploy": Kind.DEPLOY,
}


@login_required
@require_POST
def instance_action(request: HttpRequest, public_id: str, action: str) -> HttpResponse:
    instance = visible_instance(request.user, public_id)
    require_role(request.user, instance.team, Role.OPERATOR)
    if action not in ACTIONS:
        raise Http404
    params: dict[str, Any] = {}
    if action == "stop":
        mode = request.POST.get("mode", StopMode.STOP_CHARGING)
        params["mode"] = mode if mode in StopMode.values else StopMode.STOP_CHARGING
    elif action == "resize":
        target = request.POST.get("instance_type", "")
        errors = (
            catalog.check_offer(
                region=instance.region,
                zone=instance.zone,
                instance_type=target,
                charge_type=instance.charge_type,
                template=instance.template,
            )
            if target
            else {"instance_type": [_("Choose the new instance type.")]}
        )
        if errors or instance.is_prepaid:
            messages.error(
                request,
                " ".join(m for ms in errors.values() for m in ms)
                or _("Only pay-as-you-go hosts can be resized here."),
            )
            return redirect("instances:detail", public_id=public_id)
        params["instance_type"] = target
    elif action == "delete":
        if request.POST.get("confirm_name", "") != instance.name:
            messages.error(request, _("Type the instance's name exactly to delete it."))
            return redirect("instances:detail", public_id=public_id)
        if instance.subscription_active and not request.POST.get("terminate_subscription"):
            messages.error(
                request,
                _("This subscription runs until %(date)s: confirm that deleting ends it.")
                % {"date": f"{instance.expires_at:%Y-%m-%d}"},
            )
            return redirect("instances:detail", public_id=public_id)
        params["terminate_subscription"] = bool(request.POST.get("terminate_subscription"))
    try:
        operation, _created = request_operation(
            instance=instance,
            kind=ACTIONS[action],
            params=params,
            requester=Requester.of(request, source=Source.DASHBOARD),
        )
    except OperationRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(kind)s requested (%(operation)s).")
            % {"kind": operation.get_kind_display(), "operation": operation.public_id},
        )
    return redirect("instances:detail", public_id=public_id)


@never_cache
@login_required
@require_POST
def instance_credentials(request: HttpRequest, public_id: str) -> HttpResponse:
    instance = visible_instance(request.user, public_id)
    require_role(request.user, instance.team, Role.OPERATOR)
    credentials = reveal_credentials(
        instance=instance, requester=Requester.of(request, source=Source.DASHBOARD)
    )
    response = render(
        request, "instances/_credentials.html", {"instance": instance, "credentials": credentials}
    )
    if not is_htmx(request):
        response = render(
            request,
            "instances/detail.html",
            {**_detail_context(request, instance), "credentials": credentials},
        )
    response["Cache-Control"] = "no-store"
    return response
