"""Credential-like query parameters are recognised and redacted, the rest of the URL kept."""

from __future__ import annotations

import pytest

from nestops.url_credentials import credential_keys, redact_url


@pytest.mark.parametrize(
    "key",
    [
        "security-token",
        "X-Amz-Security-Token",
        "X-Amz-Signature",
        "X-Amz-Credential",
        "sig",
        "Signature",
        "api-key",
        "api_key",
        "apikey",
        "access_token",
        "hf_token",
        "token",
        "OSSAccessKeyId",
        "x-oss-signature",
        "GoogleAccessId",
        "X-Goog-Signature",
        "password",
        "client_secret",
        "key",
    ],
)
def test_credential_keys_are_recognised_and_redacted(key: str) -> None:
    url = f"https://bucket.example/m.safetensors?{key}=s3cr3t&response-content-type=x"
    assert credential_keys(url) == [key]
    assert redact_url(url) == (
        f"https://bucket.example/m.safetensors?{key}=REDACTED&response-content-type=x"
    )


def test_other_parameters_and_plain_urls_are_kept_as_written() -> None:
    for url in (
        "https://huggingface.co/o/r/resolve/main/x.safetensors?download=true",
        "https://civitai.com/api/download/models/1?type=Model&format=SafeTensor",
        "https://h.example/x.safetensors",
    ):
        assert credential_keys(url) == [] and redact_url(url) == url


def test_user_info_is_dropped_too() -> None:
    assert (
        redact_url("https://u:p@h.example:8443/o/r?sig=x")
        == "https://h.example:8443/o/r?sig=REDACTED"
    )
