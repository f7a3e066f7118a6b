"""The cloud's error answers, raised anywhere in the simulator and rendered by the server.

The official SDKs read only the HTTP status, the ``Code``/``Message``/``RequestId`` keys of the
JSON body and the ``x-acs-retry-after`` header (which turns any error into a
``ThrottlingException``), so that is all an error needs to carry.
"""

from __future__ import annotations


class CloudError(Exception):
    """An error answer of the cloud: a code such as ``IncorrectInstanceStatus``, a message and
    the HTTP status the real service uses for it."""

    def __init__(
        self,
        code: str,
        message: str,
        http_status: int = 400,
        *,
        retry_after_ms: int | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status
        self.retry_after_ms = retry_after_ms
        self.extra = extra or {}


def missing(name: str) -> CloudError:
    return CloudError(
        "MissingParameter",
        f'The input parameter "{name}" that is mandatory for processing this request is not '
        "supplied.",
    )


def invalid(name: str, detail: str = "", code: str = "InvalidParameter") -> CloudError:
    message = f'The specified parameter "{name}" is not valid.'
    if detail:
        message = f"{message} {detail}"
    return CloudError(code, message)


def instance_not_found(instance_id: str) -> CloudError:
    return CloudError(
        "InvalidInstanceId.NotFound",
        f"The specified InstanceId does not exist: {instance_id}.",
        404,
    )


def incorrect_instance_status(instance_id: str, status: str, wanted: str) -> CloudError:
    return CloudError(
        "IncorrectInstanceStatus",
        "The current status of the resource does not support this operation. "
        f"Instance {instance_id} is {status}; the operation needs it {wanted}.",
        403,
    )


def no_stock(zone_id: str, instance_type: str) -> CloudError:
    return CloudError(
        "OperationDenied.NoStock",
        "The resource is out of stock in the specified zone. Please try other types, or choose "
        f"other regions and zones. ({instance_type} in {zone_id})",
        403,
    )


def dry_run_passed() -> CloudError:
    return CloudError(
        "DryRunOperation", "Request validation has been passed with DryRun flag set.", 400
    )
