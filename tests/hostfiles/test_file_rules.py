"""The rules for model URLs, names, folders, extensions and tokens (beyond the hostile table in
tests/operations/test_hostile_inputs.py, which runs them through the API)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from hostfiles import rules as file_rules


def test_the_token_goes_only_to_its_own_site_and_subdomains() -> None:
    provider = file_rules.token_provider_for
    assert provider("https://huggingface.co/o/r/resolve/main/x.safetensors") == "huggingface"
    assert provider("https://cdn-lfs.huggingface.co/x") == "huggingface"
    assert provider("https://civitai.com/api/download/models/1") == "civitai"
    assert provider("https://www.modelscope.cn/models/x") == "modelscope"
    # Look-alikes and mirrors never get a token.
    assert provider("https://hf-mirror.com/o/r/resolve/main/x.safetensors") == ""
    assert provider("https://huggingface.co.evil.example/x") == ""
    assert provider("https://evilhuggingface.co/x") == ""


def test_a_file_name_comes_from_the_url_when_it_is_a_model_name() -> None:
    name = file_rules.filename_from_url
    assert name("https://h.example/a/b/My%20Model%20v2.safetensors?download=true") == (
        "My Model v2.safetensors"
    )
    assert name("https://civitai.com/api/download/models/12345") == ""
    assert name("https://h.example/x/..%2F..%2Fetc%2Fpasswd.safetensors") == ""


def test_folders_follow_the_webui_layout() -> None:
    assert file_rules.model_folder("checkpoint") == "models/Stable-diffusion"
    assert file_rules.model_folder("lora", "characters/anime/") == "models/Lora/characters/anime"
    assert file_rules.model_folder("embedding") == "embeddings"
    assert file_rules.model_folder("other", "models/LyCORIS") == "models/LyCORIS"
    assert file_rules.model_folder("other", "embeddings/negative") == "embeddings/negative"
    for outside in ("LyCORIS", "models", "extensions/x/models", "venv/lib", "../models/x"):
        with pytest.raises(ValidationError):
            file_rules.model_folder("other", outside)
    assert file_rules.kind_of_path("models/Lora/a/b.safetensors") == "lora"
    assert file_rules.kind_of_path("models/Lora2/b.safetensors") == "other"
    assert file_rules.kind_of_path("embeddings/x.pt") == "embedding"
    with pytest.raises(ValidationError):
        file_rules.model_folder("other")


def test_private_addresses_need_the_setting(settings) -> None:
    settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS = False
    for url in (
        "http://127.0.0.1:8000/x.safetensors",
        "http://localhost/x.safetensors",
        "http://[::1]/x.safetensors",
        "http://10.1.2.3/x.safetensors",
        "http://192.168.0.5/x.safetensors",
    ):
        with pytest.raises(ValidationError, match="NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS"):
            file_rules.validate_download_url(url)
    settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS = True
    assert file_rules.validate_download_url("http://127.0.0.1:8000/x#frag") == (
        "http://127.0.0.1:8000/x"
    )
    # The metadata service and link-local addresses stay refused whatever the setting.
    for url in ("http://100.100.100.200/latest/meta-data/", "http://[fe80::1]/x"):
        with pytest.raises(ValidationError, match="metadata or link-local"):
            file_rules.validate_download_url(url)


def test_extension_urls_name_a_repository_on_an_allowed_host(settings) -> None:
    settings.NESTOPS_EXTENSION_HOSTS = ["github.com", "gitee.com"]
    check = file_rules.validate_extension_url
    assert check("https://github.com/o/r.git/") == "https://github.com/o/r.git"
    assert check("https://gitee.com/group/sub/repo") == "https://gitee.com/group/sub/repo"
    with pytest.raises(ValidationError, match="repository's URL"):
        check("https://github.com/o/r/tree/main")
    assert file_rules.extension_name_from_url("https://github.com/o/sd-ext.git") == "sd-ext"


def test_extension_urls_are_https_on_port_443_unless_private_sources_are_allowed(
    settings,
) -> None:
    settings.NESTOPS_EXTENSION_HOSTS = ["github.com", "127.0.0.1"]
    settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS = False
    check = file_rules.validate_extension_url
    assert check("https://github.com:443/o/r") == "https://github.com:443/o/r"
    with pytest.raises(ValidationError, match="port"):
        check("https://github.com:8443/o/r")
    with pytest.raises(ValidationError, match="https://"):
        check("http://github.com/o/r")
    with pytest.raises(ValidationError, match="loopback or private"):
        check("https://127.0.0.1/o/r")
    settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS = True
    assert check("http://127.0.0.1:8080/o/r") == "http://127.0.0.1:8080/o/r"


def test_presigned_download_urls_pass_and_odd_hosts_do_not(settings) -> None:
    settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS = False
    check = file_rules.validate_download_url
    url = "https://bucket.example/m.safetensors?X-Amz-Signature=abc&X-Amz-Security-Token=t"
    assert check(url + "#x") == url
    for odd in ("https://bucket.example./m", "https://0x7f.1/m", "https://a@b.example/m"):
        with pytest.raises(ValidationError):
            check(odd)


def test_only_github_urls_go_through_the_mirror(settings) -> None:
    settings.NESTOPS_GITHUB_MIRROR = "https://ghproxy.example/"
    assert file_rules.clone_url("https://github.com/o/r") == (
        "https://ghproxy.example/https://github.com/o/r"
    )
    assert file_rules.clone_url("https://gitee.com/o/r") == "https://gitee.com/o/r"
    settings.NESTOPS_GITHUB_MIRROR = ""
    assert file_rules.clone_url("https://github.com/o/r") == "https://github.com/o/r"


def test_credentials_are_cut_out_of_urls_found_on_hosts() -> None:
    redact = file_rules.redact_url
    assert redact("https://user:tok@github.com:8443/o/r") == "https://github.com:8443/o/r"
    assert redact("https://github.com/o/r") == "https://github.com/o/r"


def test_git_refs_and_tokens() -> None:
    for ref in ("main", "v1.2.0", "feature/x-y", "a" * 40, ""):
        assert file_rules.validate_git_ref(ref) == ref
    for ref in ("main.lock", "a//b", "x/", "a/.b", "@{-1}", "HEAD~1"):
        with pytest.raises(ValidationError):
            file_rules.validate_git_ref(ref)
    assert file_rules.validate_token(" hf_abcDEF123456 ") == "hf_abcDEF123456"
    for token in ("short", "has space inside", 'quote"inside123', "new\nline12345"):
        with pytest.raises(ValidationError):
            file_rules.validate_token(token)
