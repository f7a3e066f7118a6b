"""What cloudsim keeps on disk instead of request values that may carry secrets.

A ClientToken is remembered with a SHA-256 of the request's canonical form (sorted-key JSON),
never the parameters themselves: RunInstances carries the host password, StartExecution the
script with WebUI passwords and site tokens. Scripts and file contents in persisted records are
replaced by their digest; the live records in memory keep them while the simulator runs.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

PREFIX = "sha256:"
# Fields whose values may hold secrets: a script, a file sent to a host.
SECRET_FIELDS = frozenset({"commandContent", "Content"})


def digest(text: str) -> str:
    if text.startswith(PREFIX):
        return text
    return PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


def request_fingerprint(business: dict[str, Any]) -> str:
    return digest(json.dumps(business, sort_keys=True, ensure_ascii=False))


def for_disk(value: Any) -> Any:
    """A copy of ``value`` with secret fields digested, also inside JSON-encoded Parameters."""
    if isinstance(value, list):
        return [for_disk(item) for item in value]
    if not isinstance(value, dict):
        return value
    copy: dict[str, Any] = {}
    for key, item in value.items():
        if key in SECRET_FIELDS and isinstance(item, str):
            copy[key] = digest(item)
        elif key in ("Parameters", "parameters") and isinstance(item, str):
            copy[key] = _encoded_parameters_for_disk(item)
        else:
            copy[key] = for_disk(item)
    return copy


def _encoded_parameters_for_disk(text: str) -> str:
    try:
        decoded = json.loads(text)
    except ValueError:
        return text
    if not isinstance(decoded, dict):
        return text
    return json.dumps(for_disk(decoded), ensure_ascii=False)
