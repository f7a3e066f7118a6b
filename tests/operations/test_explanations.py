"""One error, said once: a translated headline and the advice that fits, from what a host
script printed or the cloud's code; the raw text kept once, repeated lines folded."""

from __future__ import annotations

from django.utils import translation

from operations.advice import explain
from operations.models import Kind, Operation
from operations.scripts import fold_repeats

CURL_6 = "curl: (6) Could not resolve host: huggingface.co"


def failed(kind: str, code: str, message: str) -> Operation:
    return Operation(kind=kind, error_code=code, error_message=message)


def test_it_folds_a_line_curl_repeats_on_every_retry() -> None:
    output = "\n".join(["downloading 5 bytes", CURL_6, CURL_6, CURL_6, CURL_6, "done"])
    assert fold_repeats(output) == f"downloading 5 bytes\n{CURL_6} (4 times)\ndone"
    assert fold_repeats("a\na") == "a (2 times)" and fold_repeats("") == ""


def test_a_name_the_host_cannot_resolve_points_to_the_mirror_settings() -> None:
    curl = "curl: (6) Could not resolve host: models.example.org"
    why = explain(failed(Kind.DOWNLOAD_MODEL, "ScriptFailed", f"Last output:\n{curl}"))
    assert why.headline == "The host could not look up models.example.org"
    assert why.help == "mirror" and "mirror" in why.advice
    assert why.details.count(curl) == 1


def test_hugging_face_unreachable_names_the_endpoint_setting_and_modelscope() -> None:
    why = explain(failed(Kind.DOWNLOAD_MODEL, "ScriptFailed", f"Last output:\n{CURL_6}"))
    assert why.headline == "The host cannot reach Hugging Face" and why.help == "mirror"
    assert "Hugging Face endpoint" in why.advice and "ModelScope" in why.advice
    assert why.details.count(CURL_6) == 1
    with translation.override("zh-hans"):
        why = explain(failed(Kind.DOWNLOAD_MODEL, "ScriptFailed", f"Last output:\n{CURL_6}"))
    assert why.headline == "主机无法访问 Hugging Face" and "ModelScope" in why.advice


def test_a_name_the_address_policy_cannot_resolve_on_the_host_is_said_alike() -> None:
    message = "download_model on the host ended Failed with exit code 2.\nLast output:\n"
    why = explain(
        failed(
            Kind.DOWNLOAD_MODEL,
            "ScriptFailed",
            message + "refused: models.example.org does not resolve",
        )
    )
    assert why.headline == "The host could not look up models.example.org" and why.help == "mirror"


def test_github_unreachable_names_the_github_mirror() -> None:
    message = (
        "install_extension on the host ended Failed with exit code 128.\nLast output:\n"
        "fatal: unable to access 'https://github.com/a/b.git/': Could not resolve host: github.com"
    )
    why = explain(failed(Kind.INSTALL_EXTENSION, "ScriptFailed", message))
    assert why.headline == "The host cannot reach GitHub"
    assert "GitHub mirror" in why.advice and why.help == "mirror"


def test_no_space_gives_the_figures_and_the_way_out() -> None:
    message = (
        "refused: not enough free space in models/Lora: 1048576 bytes free, 3221225472 needed "
        "(the file and 1073741824 kept free)"
    )
    why = explain(failed(Kind.DOWNLOAD_MODEL, "ScriptFailed", message))
    assert why.headline == "Not enough free space on the host" and why.help == "disk"
    assert "1.0\xa0MB free, 3.0\xa0GB needed" in why.advice


def test_a_refused_download_points_to_the_model_site_tokens() -> None:
    message = "Last output:\ncurl: (22) The requested URL returned error: 403"
    why = explain(failed(Kind.DOWNLOAD_MODEL, "ScriptFailed", message))
    assert why.headline == "The site refused the download (HTTP 403)" and why.help == "tokens"


def test_a_cloud_error_keeps_its_advice_and_the_headline_is_translated() -> None:
    operation = failed(Kind.START, "OperationDenied.NoStock", "The resource is out of stock.")
    assert explain(operation).headline == "Start failed"
    assert "capacity" in explain(operation).advice
    with translation.override("zh-hans"):
        why = explain(operation)
    assert why.headline == "启动失败"
    assert why.details == "OperationDenied.NoStock: The resource is out of stock."
