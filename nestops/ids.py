"""Public ids shaped like the cloud's: a prefix and 12 lowercase base32 characters."""

from __future__ import annotations

import base64
import secrets

PUBLIC_ID_LENGTH = 12


def new_public_id(prefix: str) -> str:
    """``si-`` or ``op-`` + 12 random base32 chars (60 bits: collisions are not a concern)."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()
    return f"{prefix}-{raw[:PUBLIC_ID_LENGTH]}"


def new_instance_id() -> str:
    return new_public_id("si")


def new_operation_id() -> str:
    return new_public_id("op")


def new_model_file_id() -> str:
    return new_public_id("mf")


def new_extension_id() -> str:
    return new_public_id("ext")
