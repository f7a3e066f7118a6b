"""Dashboard forms of billing: the usage profile of the wizard's estimate, and the budget."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.estimates import UsageProfile
from billing.models import Budget


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


class ThresholdsField(forms.CharField):
    """Percentages written as ``50, 80, 100``."""

    def to_python(self, value: Any) -> list[int]:
        text = super().to_python(value)
        found: list[int] = []
        for part in text.replace(";", ",").split(","):
            part = part.strip().rstrip("%").strip()
            if not part:
                continue
            if not part.isdigit() or not 1 <= int(part) <= 1000:
                raise forms.ValidationError(
                    _("Give whole percentages from 1 to 1000, separated by commas (50, 80, 100).")
                )
            found.append(int(part))
        if len(set(found)) > 10:
            raise forms.ValidationError(_("At most 10 thresholds."))
        return sorted(set(found))

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value


class BudgetForm(forms.ModelForm):
    """A team's budget, as team admins change it in the dashboard."""

    thresholds = ThresholdsField(
        label=gettext_lazy("Thresholds (%)"),
        required=False,
        initial="50, 80, 100",
        help_text=gettext_lazy("Each notifies the team's channels once a month."),
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Monthly amount"),
        min_value=Decimal("0.01"),
        max_value=Decimal("1000000000000"),
        max_digits=16,
        decimal_places=2,
    )
    currency = forms.RegexField(
        label=gettext_lazy("Currency"),
        regex=r"^[A-Za-z]{3}$",
        max_length=3,
        error_messages={"invalid": gettext_lazy("A three-letter currency code, such as CNY.")},
    )

    class Meta:
        model = Budget
        fields = ["amount", "currency", "thresholds", "stop_at_limit", "enabled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields["currency"].initial = settings.NESTOPS_BILLING_CURRENCY

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].upper()
