"""Hostile values sent through the API to a cloudsim host whose scripts run in real bash.

Every value either fails validation with a message naming what is wrong, or is used
literally; no canary file ever appears, and nothing is written outside the WebUI directory.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from operations.models import Operation, OperationStatus
from tests.driving import drive
from tests.hosts import instance_on

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_runner", "local_sources"),
]

CANARY = Path("/tmp") / f"nestops-canary-{uuid.uuid4().hex[:8]}"
SHELL = [
    f"$(touch {CANARY})",
    f"`touch {CANARY}`",
    f";touch {CANARY};",
    f"|touch {CANARY}",
    f"&& touch {CANARY}",
    f"\ntouch {CANARY}\n",
    f"'; touch {CANARY}; '",
    f'"; touch {CANARY}; "',
]
# (field, value, what the refusal says)
REFUSED_DOWNLOADS = [
    *[("filename", f"m{value}.safetensors", "file name") for value in SHELL],
    ("filename", f"../../../../../../..{CANARY}.safetensors", "file name"),
    ("filename", f"{CANARY}.safetensors", "file name"),
    ("filename", "..", "file name"),
    ("filename", ".bashrc.safetensors", "file name"),
    ("filename", "-rf.safetensors", "file name"),
    ("filename", "model.sh", "must end with one of"),
    ("filename", "model.safetensors\x00.txt", "Null characters are not allowed"),
    ("filename", "mod\u202eel.safetensors", "file name"),  # right-to-left override
    ("filename", "a\uff0fb.safetensors", "file name"),  # fullwidth solidus
    ("filename", "模" * 70 + ".safetensors", "at most 200 bytes"),  # 222 bytes in UTF-8
    ("filename", "m" * 10_240 + ".safetensors", "no more than 255 characters"),  # 10 KB
    ("directory", "../../../../tmp", "folder names"),
    ("directory", "/etc", "folder names"),
    ("directory", "chars/../../../x", "folder names"),
    ("directory", f"$(touch {CANARY})", "folder names"),
    ("directory", "a/b/c/d", "folder names"),
    ("directory", "d" * 10_240, "no more than 200 characters"),
    ("url", "file:///etc/passwd", "https://"),
    ("url", "ftp://127.0.0.1/x.safetensors", "https://"),
    ("url", "gopher://127.0.0.1:70/x.safetensors", "https://"),
    ("url", f"-K{CANARY} http://127.0.0.1/x.safetensors", "without spaces"),
    ("url", f"http://127.0.0.1/x.safetensors\n{SHELL[0]}", "without spaces"),
    ("url", "http://user:pw@127.0.0.1/x.safetensors", "user name or password"),
    ("url", "http://2130706433/x.safetensors", "dotted address"),
    ("url", "http://[::ffff:100.100.100.200]/x.safetensors", "metadata"),
    ("url", "http://{127.0.0.1,127.0.0.2}/x.safetensors", "dotted address"),
    ("url", "http://169.254.169.254/latest/x.safetensors", "link-local"),
    ("url", "http://100.100.100.200/latest/meta-data/x.safetensors", "metadata"),
    ("url", "http://127.0.0.1:99999/x.safetensors", "not a valid URL"),
    ("sha256", f"$(touch {CANARY})", "64 hexadecimal"),
    ("kind", f"lora; touch {CANARY}", "is not a valid choice"),
]
REFUSED_EXTENSIONS = [
    ("url", f"ext::sh -c touch% {CANARY}", "https:// URL"),
    ("url", "file:///root/stable-diffusion-webui", "https:// URL"),
    ("url", f"--upload-pack=touch {CANARY}", "https:// URL"),
    ("url", "https://evil.example/o/r", "may be installed from"),
    ("url", "http://127.0.0.1/o/r?x=1", "plain repository URL"),
    ("url", "http://127.0.0.1/o/../../r", "repository's URL"),
    ("url", f"http://127.0.0.1/o/$(touch {CANARY})", "repository's URL"),
    ("name", "../../../tmp/x", "folder name"),
    ("name", "-x", "folder name"),
    ("name", ".git", "folder name"),
    ("name", f"x$(touch {CANARY})", "folder name"),
    ("ref", f"--upload-pack=touch {CANARY}", "branch, tag or commit"),
    ("ref", "-c", "branch, tag or commit"),
    ("ref", "main..dev", "branch, tag or commit"),
    ("ref", f"main;touch {CANARY}", "branch, tag or commit"),
    ("ref", "refs/../../x", "branch, tag or commit"),
]


def files_outside(host_root: Path, webui: Path) -> set[Path]:
    return {
        p
        for p in host_root.rglob("*")
        if p.is_file() and webui not in p.parents and ".sim" not in p.parts
    }


@pytest.fixture
def instance(team, shared_host):
    return instance_on(team, shared_host)


def test_hostile_download_values_are_refused_with_a_message(
    as_alice, instance, shared_host
) -> None:
    before = files_outside(shared_host.sandbox, shared_host.webui_dir)
    url = f"/api/v1/instances/{instance.public_id}/models/"
    for field, value, message in REFUSED_DOWNLOADS:
        body = {"url": "http://127.0.0.1:8/x.safetensors", "kind": "lora", field: value}
        response = as_alice.post(url, body, format="json")
        assert response.status_code == 400, (field, value, response.content)
        answer = response.json()
        assert answer["code"] == "invalid" and field in answer["details"], (field, value)
        assert message in " ".join(answer["details"][field]), (field, value, answer)
    assert not Operation.objects.exists()
    assert not CANARY.exists()
    assert files_outside(shared_host.sandbox, shared_host.webui_dir) == before


def test_hostile_extension_values_are_refused_with_a_message(as_alice, instance) -> None:
    url = f"/api/v1/instances/{instance.public_id}/extensions/"
    for field, value, message in REFUSED_EXTENSIONS:
        body = {"url": "http://127.0.0.1/o/r", field: value}
        response = as_alice.post(url, body, format="json")
        assert response.status_code == 400, (field, value, response.content)
        details = response.json()["details"]
        assert message in " ".join(details[field]), (field, value, details)
    assert not Operation.objects.exists()
    assert not CANARY.exists()


def test_odd_but_valid_values_are_used_literally(
    sim, as_alice, instance, shared_host, files
) -> None:
    """Brackets, spaces and shell-looking URL paths reach the host as the same bytes."""
    before = files_outside(shared_host.sandbox, shared_host.webui_dir)
    data = os.urandom(1000)
    files.add("plain.safetensors", data)
    cases = [
        (
            {
                "url": files.url("plain.safetensors"),
                "filename": "we [are] (fine)+ok.safetensors",
                "directory": "odd dir.v2/sub-1",
            },
            "models/Lora/odd dir.v2/sub-1/we [are] (fine)+ok.safetensors",
        ),
        (
            {
                "url": files.url(f"$(touch%20{CANARY})`id`;x.safetensors"),
                "filename": "literal-url.safetensors",
            },
            None,  # the server has no such file: the download fails on a 404
        ),
    ]
    for body, path in cases:
        response = as_alice.post(
            f"/api/v1/instances/{instance.public_id}/models/",
            {"kind": "lora", **body},
            format="json",
        )
        assert response.status_code == 202, response.content
        operation = drive(Operation.objects.get(public_id=response.json()["id"]), sim)
        if path is None:
            assert operation.status == OperationStatus.FAILED
            assert "404" in operation.error_message
        else:
            assert operation.status == OperationStatus.SUCCEEDED, operation.log
            assert (shared_host.webui_dir / path).read_bytes() == data
    assert [r.path for r in files.requests if r.method == "GET"][-1] == (
        f"/$(touch%20{CANARY})`id`;x.safetensors"
    )
    assert not CANARY.exists()
    assert files_outside(shared_host.sandbox, shared_host.webui_dir) == before
