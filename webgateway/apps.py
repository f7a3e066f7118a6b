from __future__ import annotations

from django.apps import AppConfig


class WebGatewayConfig(AppConfig):
    name = "webgateway"
    verbose_name = "WebUI gateway"
    default_auto_field = "django.db.models.BigAutoField"
