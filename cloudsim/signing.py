"""Signature checks of both algorithms the SDKs speak.

ACS3-HMAC-SHA256 (the default): canonical request = method, path, canonical query, the signed
headers as ``name:value`` lines, the signed header names and the hex sha256 of the body; the
string to sign is ``ACS3-HMAC-SHA256\\n`` + hex sha256(canonical request).

Legacy v2 (``Config(signature_algorithm="v2")``): HMAC-SHA1 with key ``secret&`` over
``METHOD&%2F&percent(canonical query)``, the signature itself travelling in the query.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import string
from collections.abc import Mapping

from cloudsim.errors import CloudError

ACS3 = "ACS3-HMAC-SHA256"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()


def verify(
    method: str,
    path: str,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    access_keys: Mapping[str, str],
) -> str:
    """Returns the caller's access key id, or raises the cloud's signature error.

    ``headers`` has lower-case names; ``params`` are the decoded query (plus form body) values.
    """
    authorization = headers.get("authorization")
    if authorization:
        return _verify_acs3(method, path, params, headers, body, authorization, access_keys)
    if "Signature" in params:
        return _verify_v2(method, params, access_keys)
    raise CloudError(
        "IncompleteSignature",
        "The request signature does not conform to Aliyun standards: no Authorization header "
        "and no Signature parameter.",
        400,
    )


def _secret_for(key_id: str, access_keys: Mapping[str, str]) -> str:
    secret = access_keys.get(key_id)
    if secret is None:
        raise CloudError("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
    return secret


def _signature_mismatch(string_to_sign: str) -> CloudError:
    return CloudError(
        "SignatureDoesNotMatch",
        "Specified signature is not matched with our calculation. "
        f"server string to sign is:{string_to_sign}",
        400,
    )


# percent_encode(text) == urllib.parse.quote(text, safe="~"), mostly at C speed: quote() loops
# in Python over every character, and DescribeInstances carries a 2 KB JSON id list in which
# only a handful of distinct characters ('[', '"', ',', ' ', ']') need escaping.
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "_.-~")
_ASCII_ESCAPES = {chr(code): f"%{code:02X}" for code in range(128) if chr(code) not in _UNRESERVED}
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _escape_utf8(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8"))


def percent_encode(text: str) -> str:
    present = set(text)
    if present <= _UNRESERVED:
        return text
    if "%" in present:  # first, so that the escapes added below are not escaped again
        text = text.replace("%", "%25")
    for char in present:
        escape = _ASCII_ESCAPES.get(char)
        if escape is not None and char != "%":
            text = text.replace(char, escape)
    return text if text.isascii() else _NON_ASCII.sub(_escape_utf8, text)


def canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{key}={percent_encode(params[key])}" for key in sorted(params))


def _verify_acs3(
    method: str,
    path: str,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    authorization: str,
    access_keys: Mapping[str, str],
) -> str:
    algorithm, _, rest = authorization.strip().partition(" ")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    key_id = fields.get("Credential", "")
    signed_headers = fields.get("SignedHeaders", "")
    signature = fields.get("Signature", "")
    if algorithm != ACS3 or not key_id or not signed_headers or not signature:
        raise CloudError(
            "IncompleteSignature",
            f"The Authorization header must read '{ACS3} Credential=...,SignedHeaders=...,"
            "Signature=...'.",
            400,
        )
    secret = _secret_for(key_id, access_keys)

    body_hash = hashlib.sha256(body).hexdigest() if body else EMPTY_BODY_SHA256
    claimed_hash = headers.get("x-acs-content-sha256")
    if claimed_hash is not None and claimed_hash != body_hash:
        raise CloudError(
            "SignatureDoesNotMatch", "The x-acs-content-sha256 header does not match the body.", 400
        )
    names = signed_headers.split(";")
    header_lines = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in names)
    canonical_request = (
        f"{method}\n{path or '/'}\n{canonical_query(params)}\n{header_lines}\n"
        f"{signed_headers}\n{body_hash}"
    )
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    string_to_sign = f"{ACS3}\n{digest}"
    expected = hmac.new(
        secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise _signature_mismatch(string_to_sign)
    return key_id


def _verify_v2(method: str, params: Mapping[str, str], access_keys: Mapping[str, str]) -> str:
    key_id = params.get("AccessKeyId", "")
    if not key_id:
        raise CloudError(
            "MissingParameter",
            'The input parameter "AccessKeyId" that is mandatory for processing this request is '
            "not supplied.",
            400,
        )
    secret = _secret_for(key_id, access_keys)
    if params.get("SignatureMethod", "HMAC-SHA1") != "HMAC-SHA1":
        raise CloudError(
            "InvalidParameter", 'The specified parameter "SignatureMethod" is not valid.', 400
        )
    canonical = "&".join(
        f"{percent_encode(key)}={percent_encode(params[key])}"
        for key in sorted(params)
        if key != "Signature"
    )
    string_to_sign = f"{method}&%2F&{percent_encode(canonical)}"
    digest = hmac.new(
        (secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1
    ).digest()
    expected = base64.b64encode(digest).decode("ascii")
    if not hmac.compare_digest(expected, params["Signature"]):
        raise _signature_mismatch(string_to_sign)
    return key_id
