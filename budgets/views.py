"""The budget page of the dashboard."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import has_role
from accounts.preferences import current_team
from budgets.forms import BudgetForm
from budgets.models import Budget, BudgetAlert
from budgets.selectors import budget_status


@login_required
def budget(request: HttpRequest) -> HttpResponse:
    team = current_team(request)
    if team is None:
        return render(request, "budgets/budget.html", {"team": None})
    found = Budget.objects.filter(team=team).first()
    can_edit = has_role(request.user, team, Role.ADMIN)
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("Only team admins manage budgets."))
        form = BudgetForm(request.POST, instance=found or Budget(team=team))
        if form.is_valid():
            saved = form.save(commit=False)
            saved.updated_by = request.user
            saved.save()
            messages.success(request, _("The budget of %(team)s is saved.") % {"team": team.name})
            return redirect("budgets:budget")
        status = 400
    else:
        form = BudgetForm(instance=found) if found else BudgetForm()
    history = BudgetAlert.objects.filter(budget=found).order_by("-created_at")[:24] if found else []
    context = {
        "team": team,
        "budget": found,
        "form": form,
        "can_edit": can_edit,
        "status": budget_status(team) if found else None,
        "history": history,
    }
    return render(request, "budgets/budget.html", context, status=status)


@login_required
@require_POST
def budget_delete(request: HttpRequest) -> HttpResponse:
    team = current_team(request)
    if team is None or not has_role(request.user, team, Role.ADMIN):
        raise PermissionDenied(_("Only team admins manage budgets."))
    deleted, _counts = Budget.objects.filter(team=team).delete()
    if deleted:
        messages.success(request, _("The budget of %(team)s is deleted.") % {"team": team.name})
    return redirect("budgets:budget")
