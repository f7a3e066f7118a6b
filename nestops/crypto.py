"""Encryption at rest for secrets we must keep (WebUI passwords, host passwords).

Fernet (AES-128-CBC + HMAC-SHA256). Keys come from ``NESTOPS_ENCRYPTION_KEYS`` (comma-separated,
the first encrypts, all decrypt, so a key can be rotated), or are derived from the Django
``SECRET_KEY`` with HKDF when none is set.
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """A stored secret cannot be read with the configured keys."""


def _derived_key(secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"nestops-at-rest", info=b"fernet")
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode("utf-8")))


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        return MultiFernet([Fernet(_derived_key(secret_key))])
    try:
        return MultiFernet([Fernet(key.encode("ascii")) for key in keys])
    except (ValueError, UnicodeEncodeError):
        raise ImproperlyConfigured(
            "NESTOPS_ENCRYPTION_KEYS is not valid: expected comma-separated Fernet keys "
            "(32 url-safe base64-encoded bytes each)."
        ) from None


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.NESTOPS_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(plain: str) -> str:
    return fernet().encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise DecryptionError(
            "the stored secret cannot be decrypted with the configured keys"
        ) from None
