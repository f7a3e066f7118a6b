"""Dashboard forms of billing: the usage profile of the wizard's estimate, and the budget."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.estimates import UsageProfile


class UsageForm(forms.Form):
    """How much a host will run; the same bounds as the estimates API."""

    usage = forms.ChoiceField(
        label=gettext_lazy("How much will it run?"),
        choices=[
            ("hours", gettext_lazy("Some hours a day, save-stopped otherwise")),
            ("always", gettext_lazy("Always on")),
        ],
        initial="hours",
        required=False,
        widget=forms.RadioSelect,
    )
    hours_per_day = forms.DecimalField(
        label=gettext_lazy("Hours a day"),
        min_value=Decimal(0),
        max_value=Decimal(24),
        max_digits=5,
        decimal_places=2,
        initial=8,
        required=False,
    )
    days_per_week = forms.DecimalField(
        label=gettext_lazy("Days a week"),
        min_value=Decimal(0),
        max_value=Decimal(7),
        max_digits=3,
        decimal_places=1,
        initial=5,
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("usage") != "always":
            for name in ("hours_per_day", "days_per_week"):
                if name not in self.errors and data.get(name) is None:
                    self.add_error(name, _("Say how much the host runs, or choose always on."))
        return data

    def profile(self) -> UsageProfile:
        data = self.cleaned_data
        if data.get("usage") == "always":
            return UsageProfile(always_on=True, hours_per_day=Decimal(24), days_per_week=Decimal(7))
        return UsageProfile(
            always_on=False,
            hours_per_day=data["hours_per_day"],
            days_per_week=data["days_per_week"],
        )
