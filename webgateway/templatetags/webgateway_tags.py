from __future__ import annotations

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
def webui_users(instance: ServiceInstance) -> list[WebUIUse]:
    return select_webui_users(instance=instance)
