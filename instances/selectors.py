"""Reads of service instances, scoped to what a user may see."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _

from instances.models import ServiceInstance


def visible_instance(user: Any, public_id: str) -> ServiceInstance:
    """The instance if the user may see it (a member of its team, or a superuser); anyone
    else gets a 404, the same answer as for an instance that does not exist."""
    found = (
        ServiceInstance.objects.visible_to(user)
        .select_related("team", "created_by")
        .filter(public_id=public_id)
        .first()
    )
    if found is None:
        raise Http404(_("No such instance."))
    return found
