"""Reads of operations, scoped to what a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from operations.models import Operation


def visible_operations(user: Any) -> QuerySet[Operation]:
    """The operations of the user's teams, newest first, without their (long) logs."""
    return (
        Operation.objects.visible_to(user)
        .select_related("instance", "team", "actor")
        .defer("log")
        .order_by("-created_at")
    )


def visible_operation(user: Any, public_id: str) -> Operation:
    """The operation if the user may see it; anyone else gets a 404, the same answer as for an
    operation that does not exist."""
    found = (
        Operation.objects.visible_to(user)
        .select_related("instance", "actor", "team")
        .filter(public_id=public_id)
        .first()
    )
    if found is None:
        raise Http404(_("No such operation."))
    return found
