from __future__ import annotations

from urllib.parse import urlsplit

from django import template

from instances.models import ServiceInstance
from webgateway.models import WebUIUse
from webgateway.origins import webui_origin
from webgateway.selectors import webui_users as select_webui_users

register = template.Library()


@register.filter
def webui_url(instance: ServiceInstance) -> str:
    """The instance's stable WebUI address through the gateway."""
    return webui_origin(instance.public_id) + "/"


@register.simple_tag
def webui_api_target(instance: ServiceInstance) -> dict[str, str]:
    """Where an API client connects for the instance's WebUI, and the Host it names. A
    ``*.localhost`` origin (the embedded mode) is loopback, but not every resolver knows it:
    clients connect to 127.0.0.1 and name the instance in the Host header."""
    origin = webui_origin(instance.public_id)
    parts = urlsplit(origin)
    if parts.hostname and parts.hostname.endswith(".localhost"):
        return {"url": f"{parts.scheme}://127.0.0.1:{parts.port or 80}", "host": parts.netloc}
    return {"url": origin, "host": ""}


@register.simple_tag
def webui_users(instance: ServiceInstance) -> list[WebUIUse]:
    return select_webui_users(instance=instance)
