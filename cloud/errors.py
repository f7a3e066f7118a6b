"""Our own errors for what the cloud answers, so no caller ever sees an SDK exception.

The runner decides what to do from the class alone: ``Throttled`` and ``Transient`` are retried
with backoff until the operation's deadline, everything else fails the operation with the
cloud's code and message. Each error keeps the cloud's code, message and request id so that an
operator can quote them to Alibaba Cloud support.
"""

from __future__ import annotations


class CloudError(Exception):
    """A call to the cloud did not succeed."""

    retryable = False

    def __init__(
        self,
        code: str,
        message: str,
        *,
        request_id: str | None = None,
        http_status: int | None = None,
        action: str | None = None,
        retry_after_ms: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.request_id = request_id
        self.http_status = http_status
        self.action = action
        self.retry_after_ms = retry_after_ms

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "request_id": self.request_id,
            "action": self.action,
        }


class Throttled(CloudError):
    """The cloud asked us to slow down (``Throttling*``)."""

    retryable = True


class Transient(CloudError):
    """A failure that may pass: 5xx, timeouts, refused connections, unreadable answers."""

    retryable = True


class Conflict(CloudError):
    """The resource is in a state that does not allow the call (``IncorrectInstanceStatus``...)."""


class NotFound(CloudError):
    """The resource does not exist (``*.NotFound``, ``EntityNotExists.*``)."""


class NoStock(CloudError):
    """The zone has no capacity for the instance type right now (``OperationDenied.NoStock``)."""


class PermissionDenied(CloudError):
    """Credentials, RAM permissions, quota or account balance refuse the call."""


class InvalidRequest(CloudError):
    """The cloud rejected our parameters."""


_CONFLICT_PREFIXES = (
    "IncorrectInstanceStatus",
    "IncorrectImageStatus",
    "ImageUsedByInstance",
    "IncorrectStatus",
    "IncorrectVpcStatus",
    "IncorrectVSwitchStatus",
    "InvalidStatus",
    "DependencyViolation",
    "OperationConflict",
    "IdempotentParameterMismatch",
    "ChargeTypeViolation",
    "LastTokenProcessing",
    "IdempotenceProcessing",
    "TaskConflict",
)
_PERMISSION_PREFIXES = (
    "Forbidden",
    "NoPermission",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidAccountStatus",
    "QuotaExceed",
    "QuotaExceeded",
    "Account.Arrearage",
    "InvalidSecurityToken",
    "IncompleteSignature",
)
_NO_STOCK_CODES = (
    "OperationDenied.NoStock",
    "Zone.NotOnSale",
    "OperationDenied.ZoneSystemCategoryNotMatch",
    "InvalidResourceType.NotSupported",
)
_TRANSIENT_CODES = ("InternalError", "ServiceUnavailable", "UnknownError", "InternalServerError")


def classify(code: str, http_status: int | None) -> type[CloudError]:
    """Picks our error class for a cloud error code (and the HTTP status as a fallback)."""
    if code.startswith("Throttling") or code in ("ServiceUnavailableTemporary", "Throttled"):
        return Throttled
    if code in _NO_STOCK_CODES:
        return NoStock
    if code.startswith(_CONFLICT_PREFIXES):
        return Conflict
    if code.startswith(_PERMISSION_PREFIXES):
        return PermissionDenied
    if code.endswith(".NotFound") or code.startswith(("EntityNotExists", "NotFound")):
        return NotFound
    if code in _TRANSIENT_CODES or (http_status is not None and http_status >= 500):
        return Transient
    if http_status == 404:
        return NotFound
    if http_status == 403:
        return PermissionDenied
    return InvalidRequest
