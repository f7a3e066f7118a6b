"""The Images page of the dashboard: the WebUI images nestops built, builds, build and delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import may_manage_cloud_account, require_cloud_account_role
from accounts.requester import Requester, Source
from cloud import CloudError
from images import selectors, services
from images.models import ImageBuild, Template, WebUIImage
from instances import catalog
from nestops.errors import Refused


@login_required
def images(request: HttpRequest) -> HttpResponse:
    regions = [r.region_id for r in catalog.regions()]
    region = request.GET.get("region") or (regions[0] if regions else "")
    if region not in regions:
        region = regions[0] if regions else ""
    try:
        bases = selectors.base_images(region) if region else []
    except CloudError as exc:
        bases = []
        messages.warning(request, _("The base images could not be listed: %(e)s") % {"e": exc})
    context = {
        "images": WebUIImage.objects.all(),
        "builds": ImageBuild.objects.all()[:20],
        "can_manage": may_manage_cloud_account(request.user),
        "templates": Template.choices,
        "regions": regions,
        "region": region,
        "bases": bases,
    }
    return render(request, "images/images.html", context)


@login_required
@require_POST
def build(request: HttpRequest) -> HttpResponse:
    require_cloud_account_role(request.user)
    try:
        started = services.request_build(
            template=request.POST.get("template", ""),
            region=request.POST.get("region", ""),
            base_image_id=request.POST.get("base_image_id", ""),
            copy_regions=request.POST.getlist("copy_regions"),
            requester=Requester.of(request, source=Source.DASHBOARD),
        )
    except (Refused, CloudError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
        return redirect("images:images")
    messages.success(request, _("The image build %(id)s started.") % {"id": started.public_id})
    return redirect("images:build", public_id=started.public_id)


@login_required
def build_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    found = get_object_or_404(ImageBuild, public_id=public_id)
    return render(request, "images/build.html", {"build": found})


@login_required
@require_POST
def delete(request: HttpRequest, image_id: str) -> HttpResponse:
    require_cloud_account_role(request.user)
    image = get_object_or_404(WebUIImage, cloud_image_id=image_id)
    try:
        services.delete_image(image=image, requester=Requester.of(request, source=Source.DASHBOARD))
    except CloudError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The image %(id)s is deleted.") % {"id": image_id})
    return redirect("images:images")
