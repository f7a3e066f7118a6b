"""The cloud gateway: the only package that knows the shape of an Alibaba Cloud API.

Callers use the typed functions of ``ecs``, ``vpc``, ``oos`` and ``cms`` and catch the errors of
``errors``; clients are built from settings (``NESTOPS_CLOUD=sim`` or ``aliyun``).
"""

from __future__ import annotations

from cloud.errors import (
    CloudError,
    Conflict,
    InvalidRequest,
    NoStock,
    NotFound,
    PermissionDenied,
    Throttled,
    Transient,
)

__all__ = [
    "CloudError",
    "Conflict",
    "InvalidRequest",
    "NoStock",
    "NotFound",
    "PermissionDenied",
    "Throttled",
    "Transient",
]
