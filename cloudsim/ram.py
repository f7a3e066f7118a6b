"""RAM users of the simulated account: access keys with a set of system policies.

The account's own keys (``--access-key``) may do everything. A key added through
``POST /_sim/ram/users`` may call only the actions its policies allow; any other call is
answered as the cloud answers a RAM user without the permission: HTTP 403 with
``Forbidden.RAM`` (ECS, VPC) or ``NoPermission`` (OOS, CloudMonitor; from memory) and an
``AccessDeniedDetail`` naming the action. RAM users live in memory; ``/_sim/reset`` removes
them.
"""

from __future__ import annotations

import fnmatch
import threading

from cloudsim.catalog import ACCOUNT_ID
from cloudsim.errors import CloudError

# The system policies nestops' documentation names, as action patterns (``service:Action``).
SYSTEM_POLICIES: dict[str, tuple[str, ...]] = {
    "AdministratorAccess": ("*",),
    "AliyunECSFullAccess": ("ecs:*",),
    "AliyunECSReadOnlyAccess": ("ecs:Describe*",),
    "AliyunVPCFullAccess": ("vpc:*",),
    "AliyunVPCReadOnlyAccess": ("vpc:Describe*",),
    "AliyunOOSFullAccess": ("oos:*",),
    "AliyunOOSReadOnlyAccess": ("oos:List*", "oos:Get*"),
    "AliyunCloudMonitorFullAccess": ("cms:*",),
    "AliyunCloudMonitorReadOnlyAccess": ("cms:Describe*", "cms:Query*"),
    "AliyunBSSFullAccess": ("bss:*",),
    "AliyunBSSReadOnlyAccess": ("bss:Describe*", "bss:Query*"),
}
DENIAL_CODES = {"Ecs": "Forbidden.RAM", "Vpc": "Forbidden.RAM", "Oos": "NoPermission"}


class PolicyError(ValueError):
    """A RAM user definition the control API refuses."""


class Ram:
    """Key id -> (secret, policies) of the RAM users."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[str, tuple[str, tuple[str, ...]]] = {}

    def add_user(self, key_id: str, secret: str, policies: list[str]) -> None:
        if not key_id or not secret:
            raise PolicyError("access_key_id and access_key_secret are required")
        unknown = [p for p in policies if p not in SYSTEM_POLICIES]
        if unknown:
            raise PolicyError(f"unknown system policies: {', '.join(unknown)}")
        with self._lock:
            self._users[key_id] = (secret, tuple(policies))

    def clear(self) -> None:
        with self._lock:
            self._users.clear()

    def secrets(self) -> dict[str, str]:
        with self._lock:
            return {key_id: secret for key_id, (secret, _p) in self._users.items()}

    def authorize(self, key_id: str, product: str, action: str) -> None:
        """Raises the cloud's denial unless the key may call ``product.action``."""
        with self._lock:
            user = self._users.get(key_id)
        if user is None:
            return  # one of the account's own keys
        wanted = f"{product.lower()}:{action}"
        for policy in user[1]:
            if any(fnmatch.fnmatchcase(wanted, p) for p in SYSTEM_POLICIES[policy]):
                return
        raise CloudError(
            DENIAL_CODES.get(product, "NoPermission"),
            "User not authorized to operate on the specified resource, or this API doesn't "
            "support RAM.",
            403,
            extra={
                "AccessDeniedDetail": {
                    "AuthAction": wanted,
                    "PolicyType": "AccountLevelIdentityBasedPolicy",
                    "NoPermissionType": "ImplicitDeny",
                    "AuthPrincipalType": "SubUser",
                    "AuthPrincipalOwnerId": str(ACCOUNT_ID),
                    "AuthPrincipalDisplayName": key_id,
                }
            },
        )
