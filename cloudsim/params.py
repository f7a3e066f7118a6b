"""Typed readers for the flattened query parameters of an RPC call.

The SDKs flatten everything into strings: booleans as ``True``/``False``, structs as dotted keys
(``SystemDisk.Category``), lists of structs as ``Tag.1.Key``, plain lists as ``InstanceId.1``,
and some parameters are JSON strings built by the caller. Every reader raises the cloud's own
error (``MissingParameter``, ``InvalidParameter`` or a specific code) instead of a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from cloudsim.errors import CloudError, invalid, missing

# Parameters every RPC call may carry that say nothing about the business request: left out of
# the ClientToken fingerprint so that a retry with a fresh nonce matches its original.
COMMON_PARAMETERS = frozenset(
    {
        "Action",
        "Version",
        "Format",
        "Timestamp",
        "SignatureNonce",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureType",
        "AccessKeyId",
        "Signature",
        "SecurityToken",
        "BearerToken",
        "OwnerId",
        "OwnerAccount",
        "ResourceOwnerId",
        "ResourceOwnerAccount",
    }
)


class Params:
    """The parameters of one call, with readers that validate as the cloud does."""

    __slots__ = ("values",)

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def __contains__(self, name: str) -> bool:
        return bool(self.values.get(name))

    def business(self) -> dict[str, str]:
        return {k: v for k, v in self.values.items() if k not in COMMON_PARAMETERS}

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        default: str | None = None,
        max_length: int | None = None,
        choices: Iterable[str] | None = None,
        code: str = "InvalidParameter",
    ) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise missing(name)
            return default
        if max_length is not None and len(value) > max_length:
            raise invalid(name, f"It must be at most {max_length} characters long.", code)
        if choices is not None and value not in choices:
            allowed = ", ".join(choices)
            raise invalid(name, f"Valid values: {allowed}.", code)
        return value

    def required(self, name: str) -> str:
        value = self.text(name, required=True)
        assert value is not None
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
        code: str = "InvalidParameter",
    ) -> int | None:
        value = self.text(name, required=required)
        if value is None:
            return default
        try:
            number = int(value.strip())
        except ValueError:
            raise invalid(name, "It must be an integer.", code) from None
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise invalid(name, f"It must be from {minimum} to {maximum}.", code)
        return number

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.text(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        raise invalid(name, "It must be true or false.")

    def items(self, prefix: str, *, max_items: int | None = None) -> list[str]:
        """A plain flattened list: ``InstanceId.1``, ``InstanceId.2``... in index order."""
        found: dict[int, str] = {}
        start = prefix + "."
        for key, value in self.values.items():
            if key.startswith(start):
                found[_index(key[len(start) :], key)] = value
        if max_items is not None and len(found) > max_items:
            raise invalid(prefix, f"It takes at most {max_items} items.")
        return [found[i] for i in sorted(found)]

    def structs(self, prefix: str, *, max_items: int | None = None) -> list[dict[str, str]]:
        """A flattened list of structs: ``Tag.1.Key``, ``Tag.1.Value``... in index order."""
        found: dict[int, dict[str, str]] = {}
        start = prefix + "."
        for key, value in self.values.items():
            if not key.startswith(start):
                continue
            index_text, dot, field = key[len(start) :].partition(".")
            if not dot or not field:
                raise invalid(key, f"Use {prefix}.N.Field.")
            found.setdefault(_index(index_text, key), {})[field] = value
        if max_items is not None and len(found) > max_items:
            raise invalid(prefix, f"It takes at most {max_items} items.")
        return [found[i] for i in sorted(found)]

    def struct(self, prefix: str) -> dict[str, str]:
        """A flattened struct: ``SystemDisk.Category`` -> ``{"Category": ...}``."""
        start = prefix + "."
        return {k[len(start) :]: v for k, v in self.values.items() if k.startswith(start)}

    def json(self, name: str, *, required: bool = False, code: str = "InvalidParameter") -> Any:
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise invalid(name, "It must be a JSON string.", code) from None


def _index(text: str, key: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise invalid(key, "List indexes start at 1.")
    return int(text)


def json_string_list(
    value: Any, name: str, *, max_items: int, code: str = "InvalidParameter"
) -> list[str]:
    """A decoded JSON parameter that must be an array of strings (``InstanceIds``...)."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid(name, "It must be a JSON array of strings.", code)
    if len(value) > max_items:
        raise CloudError(code, f'The specified parameter "{name}" takes at most {max_items} ids.')
    return [item.strip() for item in value]
