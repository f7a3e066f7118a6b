"""ECS SendFile: small files written onto hosts, and where a sending stands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cloud.clients import ECS, call, request_model


def send_file(
    region: str,
    instance_ids: Sequence[str],
    *,
    name: str,
    target_dir: str,
    content_base64: str,
    file_mode: str = "0644",
    overwrite: bool = True,
) -> tuple[str, str]:
    """Sends a small file (base64, at most 32 KB decoded); returns (invoke id, request id)."""
    request = request_model(
        ECS,
        "SendFileRequest",
        region_id=region,
        instance_id=list(instance_ids),
        name=name,
        target_dir=target_dir,
        content=content_base64,
        content_type="Base64",
        file_mode=file_mode,
        overwrite=overwrite,
    )
    data = call(ECS, region, "SendFile", request)
    return str(data.get("InvokeId") or ""), str(data.get("RequestId") or "")


@dataclass(frozen=True)
class SendFileResult:
    """Where a SendFile stands: ``Pending``/``Running``, ``Success``, ``Failed``, ..."""

    invoke_id: str
    status: str
    errors: list[str]

    @property
    def finished(self) -> bool:
        return self.status not in ("Pending", "Running", "Scheduled")


def describe_send_file(region: str, invoke_id: str) -> SendFileResult | None:
    request = request_model(
        ECS, "DescribeSendFileResultsRequest", region_id=region, invoke_id=invoke_id
    )
    data = call(ECS, region, "DescribeSendFileResults", request)
    for raw in (data.get("Invocations") or {}).get("Invocation") or []:
        if raw.get("InvokeId") != invoke_id:
            continue
        hosts = (raw.get("InvokeInstances") or {}).get("InvokeInstance") or []
        return SendFileResult(
            invoke_id=invoke_id,
            status=str(raw.get("InvocationStatus") or ""),
            errors=[
                f"{h.get('InstanceId')}: {h.get('ErrorCode')}: {h.get('ErrorInfo')}"
                for h in hosts
                if h.get("ErrorCode")
            ],
        )
    return None
