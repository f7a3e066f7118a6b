from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from billing import ledger
        from instances.lifecycle import status_changed

        status_changed.connect(ledger.on_status_changed, dispatch_uid="billing.ledger")
