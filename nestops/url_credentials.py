"""Credentials in URLs: presigned download links and webhook URLs carry them in the query
string (``X-Amz-Signature``, ``security-token``, ``sig``, ``token``, ...).

Such a URL is a secret: it is stored encrypted where it is needed (the host downloading the
file, the webhook sender) and everything else (operation parameters, model file records, logs,
API responses and pages) keeps ``redact_url(url)``.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit

REDACTED = "REDACTED"
# Query keys compared without case, '-' and '_' (X-Amz-Security-Token -> xamzsecuritytoken).
CREDENTIAL_KEYS = {
    "key",
    "sig",
    "auth",
    "code",
    "apikey",
    "accesskeyid",
    "ossaccesskeyid",
    "googleaccessid",
    "xamzcredential",
    "xgoogcredential",
    "xosscredential",
    "session",
    "jwt",
    "pass",
    "pwd",
}
CREDENTIAL_PARTS = ("token", "signature", "secret", "password", "apikey", "credential", "auth")


def _plain_key(key: str) -> str:
    return re.sub(r"[-_.\s]", "", unquote_plus(key)).lower()


def is_credential_key(key: str) -> bool:
    plain = _plain_key(key)
    return plain in CREDENTIAL_KEYS or any(part in plain for part in CREDENTIAL_PARTS)


def credential_keys(url: str) -> list[str]:
    """The query keys of ``url`` that carry credentials, as written."""
    try:
        query = urlsplit(url).query
    except ValueError:
        return []
    keys = [pair.partition("=")[0] for pair in query.split("&") if pair]
    return [key for key in keys if is_credential_key(key)]


def redact_url(url: str) -> str:
    """``url`` without user name, password and the values of credential query parameters
    (``...?X-Amz-Signature=REDACTED``); everything else is kept as written."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    if parts.username is not None or parts.password is not None:
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        parts = parts._replace(netloc=f"{host}:{port}" if port else host)
    pairs = []
    for pair in parts.query.split("&") if parts.query else []:
        key, equals, _value = pair.partition("=")
        pairs.append(f"{key}={REDACTED}" if equals and is_credential_key(key) else pair)
    return parts._replace(query="&".join(pairs)).geturl()
