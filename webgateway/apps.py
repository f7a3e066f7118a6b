from __future__ import annotations

from django.apps import AppConfig


class WebGatewayConfig(AppConfig):
    name = "webgateway"
    verbose_name = "WebUI gateway"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from operations.handlers.common import register_certificate_recorder
        from webgateway.services import record_host_certificate

        register_certificate_recorder(record_host_certificate)
