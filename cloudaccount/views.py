"""The "Check this account" page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.permissions import require_cloud_account_role
from cloud import CloudError
from cloudaccount import checks
from instances import catalog


@login_required
def account_check(request: HttpRequest) -> HttpResponse:
    require_cloud_account_role(request.user)
    regions = [r.region_id for r in catalog.regions()]
    region = request.POST.get("region") or request.GET.get("region") or (regions[:1] or [""])[0]
    result = None
    if request.method == "POST" and region in regions:
        try:
            result = checks.check(region=region, fresh=True)
        except CloudError as exc:
            messages.error(request, _("The cloud could not be reached: %(e)s") % {"e": exc})
    context = {
        "regions": regions,
        "region": region,
        "result": result,
        "advice": checks.advice(result) if result is not None and result.missing else "",
        "warnings": checks.warnings(result) if result is not None else [],
    }
    return render(request, "cloudaccount/check.html", context)
