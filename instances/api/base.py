"""The one base for every API view under ``/api/v1/instances/{id}/…``."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from accounts.permissions import TeamRolePermission
from instances.models import ServiceInstance
from instances.selectors import visible_instance


class OnInstance:
    """The instance named in the URL must be visible to the user (else 404) and the user's
    role in its team must allow the request (else 403): members read, operators act."""

    permission_classes = [TeamRolePermission]
    # The URL's name for the instance's id.
    instance_url_kwarg = "public_id"
    request: Request
    kwargs: dict[str, Any]

    def instance(self) -> ServiceInstance:
        if not hasattr(self, "_instance"):
            found = visible_instance(self.request.user, self.kwargs[self.instance_url_kwarg])
            self.check_object_permissions(self.request, found)  # type: ignore[attr-defined]
            self._instance = found
        return self._instance
