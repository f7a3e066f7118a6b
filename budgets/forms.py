"""The budget form of the dashboard."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing import money
from budgets.models import Budget


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
        value = self.cleaned_data["currency"].upper()
        if value not in money.CLOUD_CURRENCIES:
            raise forms.ValidationError(
                _("The cloud bills in %(currencies)s.")
                % {"currencies": ", ".join(money.CLOUD_CURRENCIES)}
            )
        return value
