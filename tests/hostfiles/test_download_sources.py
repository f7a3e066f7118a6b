"""Hugging Face and ModelScope files: page URLs and repository + file resolved to download URLs
(Hugging Face on the team's endpoint), hostile input refused at the edge and in the service,
the Hugging Face token's hosts, and the team's download settings page."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import AuditAction, AuditEvent
from accounts.preferences import preference
from accounts.requester import Requester, Source
from hostfiles import rules, sources
from hostfiles import services as host_files
from hostfiles.models import TeamFileSettings
from instances.models import Status
from operations.models import Operation
from operations.services import InvalidRequest
from tests.factories import make_instance

pytestmark = pytest.mark.django_db

MIRROR = "https://hf-mirror.com"


@pytest.fixture(autouse=True)
def public_sources(settings) -> None:
    settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS = False
    settings.NESTOPS_HUGGINGFACE_ENDPOINT = ""
    settings.NESTOPS_DOWNLOAD_CONNECTIONS = 16


# --- resolution ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pasted", "resolved"),
    [
        # Hugging Face: a file's page, its download link (with ?download=true), raw, hf.co.
        (
            "https://huggingface.co/org/repo/blob/main/lora.safetensors",
            f"{MIRROR}/org/repo/resolve/main/lora.safetensors",
        ),
        (
            "https://huggingface.co/org/repo/resolve/v1.0/unet/model.safetensors?download=true",
            f"{MIRROR}/org/repo/resolve/v1.0/unet/model.safetensors",
        ),
        (
            "http://www.huggingface.co/org/repo/raw/main/x.yaml#L3",
            f"{MIRROR}/org/repo/resolve/main/x.yaml",
        ),
        ("https://hf.co/gpt2/resolve/main/x.bin", f"{MIRROR}/gpt2/resolve/main/x.bin"),
        (
            "https://huggingface.co/datasets/o/n/resolve/refs%2Fpr%2F3/a%20b.safetensors",
            f"{MIRROR}/datasets/o/n/resolve/refs%2Fpr%2F3/a%20b.safetensors",
        ),
        (
            "https://huggingface.co/o/n/blob/main/%E6%A8%A1%E5%9E%8B.safetensors",
            f"{MIRROR}/o/n/resolve/main/%E6%A8%A1%E5%9E%8B.safetensors",
        ),
        # A page on the endpoint itself becomes its download link.
        (
            f"{MIRROR}/org/repo/blob/main/x.safetensors",
            f"{MIRROR}/org/repo/resolve/main/x.safetensors",
        ),
        # ModelScope: the file page (path or ?fileName=), the resolve link, the SDK's API form.
        (
            "https://modelscope.cn/models/AI-ModelScope/sdxl/file/view/master/x.safetensors?status=1",
            "https://www.modelscope.cn/models/AI-ModelScope/sdxl/resolve/master/x.safetensors",
        ),
        (
            "https://www.modelscope.cn/models/o/n/file/view/master?fileName=unet%2Fx.safetensors",
            "https://www.modelscope.cn/models/o/n/resolve/master/unet/x.safetensors",
        ),
        (
            "https://modelscope.cn/models/o/n/resolve/v2/x.safetensors",
            "https://www.modelscope.cn/models/o/n/resolve/v2/x.safetensors",
        ),
        (
            "https://modelscope.cn/api/v1/models/o/n/repo?Revision=v1&FilePath=a/x.ckpt",
            "https://www.modelscope.cn/models/o/n/resolve/v1/a/x.ckpt",
        ),
        (
            "https://modelscope.cn/api/v1/models/o/n/repo?FilePath=x.ckpt",
            "https://www.modelscope.cn/models/o/n/resolve/master/x.ckpt",
        ),
        # Other sites, and look-alikes of these, stay as they are.
        (
            "https://civitai.com/api/download/models/12345",
            "https://civitai.com/api/download/models/12345",
        ),
        (
            "https://huggingface.co.evil.example/o/n/resolve/main/x.safetensors",
            "https://huggingface.co.evil.example/o/n/resolve/main/x.safetensors",
        ),
        (
            "https://evil.example/huggingface.co/o/n/blob/main/x.safetensors",
            "https://evil.example/huggingface.co/o/n/blob/main/x.safetensors",
        ),
        (
            "https://hf-mirror.com.evil.example/o/n/blob/main/x.safetensors",
            "https://hf-mirror.com.evil.example/o/n/blob/main/x.safetensors",
        ),
    ],
)
def test_it_resolves_pasted_urls_to_download_urls(pasted, resolved) -> None:
    assert sources.resolve(url=pasted, huggingface_endpoint=MIRROR).url == resolved


@pytest.mark.parametrize(
    ("pasted", "reason"),
    [
        ("https://huggingface.co/org/repo", "not a file's"),
        ("https://huggingface.co/org/repo/tree/main/unet", "not a file's"),
        ("https://huggingface.co/org/repo/resolve/main", "not a file's"),
        ("https://huggingface.co/", "not a file's"),
        ("https://modelscope.cn/models/o/n/summary", "not a file's"),
        ("https://modelscope.cn/models/o/n/file/view/master", "not a file's"),
        ("https://modelscope.cn/datasets/o/n/resolve/master/x.bin", "not a file's"),
        ("https://modelscope.cn/api/v1/models/o/n/repo/files", "not a file's"),
        (f"{MIRROR}/", "not a file's"),
        # Traversal, spelled every way a decoder may read it.
        ("https://huggingface.co/o/n/resolve/main/../x.safetensors", "without '..'"),
        ("https://huggingface.co/o/n/resolve/main/%2e%2e/x.safetensors", "without '..'"),
        ("https://huggingface.co/o/n/resolve/main/a%2F..%2F..%2Fx.safetensors", "without '..'"),
        ("https://huggingface.co/o/n/resolve/main/a%5C..%5Cx.safetensors", "backslashes"),
        ("https://huggingface.co/o/n/resolve/main/a//x.safetensors", "empty parts"),
        ("https://huggingface.co/o/n/resolve/main/x%0a.safetensors", "control characters"),
        (
            "https://modelscope.cn/models/o/n/file/view/master?fileName=../../etc/passwd",
            "without '..'",
        ),
        ("https://modelscope.cn/api/v1/models/o/n/repo?FilePath=/abs/x.ckpt", "empty parts"),
        # Revisions and repositories with characters they cannot have.
        ("https://huggingface.co/o/n/resolve/ma;in/x.safetensors", "revision"),
        ("https://huggingface.co/o/n/resolve/%24(id)/x.safetensors", "revision"),
        ("https://huggingface.co/o/n/resolve/-main/x.safetensors", "revision"),
        ("https://huggingface.co/o/n/resolve/a..b/x.safetensors", "revision"),
        ("https://modelscope.cn/api/v1/models/o/n/repo?Revision=a%20b&FilePath=x", "revision"),
        ("https://huggingface.co/o%20x/n/resolve/main/x.safetensors", "owner/name"),
        ("https://huggingface.co/-o/n/resolve/main/x.safetensors", "owner/name"),
        ("https://modelscope.cn/models/o/n--x/resolve/master/x.safetensors", "owner/name"),
    ],
)
def test_it_refuses_site_urls_that_name_no_file_or_a_bad_one(pasted, reason) -> None:
    with pytest.raises(ValidationError) as caught:
        sources.resolve(url=pasted, huggingface_endpoint=MIRROR)
    assert list(caught.value.message_dict) == ["url"]
    assert reason in caught.value.message_dict["url"][0]


def test_a_repository_and_a_file_become_the_sites_download_url() -> None:
    hf = sources.resolve(
        source="huggingface", repo="stabilityai/sdxl", file="unet/diffusion model.safetensors"
    )
    assert (
        hf.url
        == "https://huggingface.co/stabilityai/sdxl/resolve/main/unet/diffusion%20model.safetensors"
    )
    assert (hf.file.site, hf.file.revision, hf.file.filename) == (
        "huggingface",
        "main",
        "diffusion model.safetensors",
    )
    on_mirror = sources.resolve(
        source="huggingface", repo="o/n", file="x.safetensors", huggingface_endpoint=MIRROR + "/"
    )
    assert on_mirror.url == f"{MIRROR}/o/n/resolve/main/x.safetensors"
    ms = sources.resolve(source="modelscope", repo="o/n", file="x.safetensors", revision="v1.1")
    assert ms.url == "https://www.modelscope.cn/models/o/n/resolve/v1.1/x.safetensors"
    assert sources.resolve(source="modelscope", repo="o/n", file="x.ckpt").file.revision == "master"
    # An endpoint with a path keeps it; characters that would end the path are encoded.
    with_path = sources.resolve(
        source="huggingface",
        repo="o/n",
        file="a?b#c.safetensors",
        revision="refs/pr/1",
        huggingface_endpoint="https://mirror.example/hf",
    )
    assert with_path.url == (
        "https://mirror.example/hf/o/n/resolve/refs%2Fpr%2F1/a%3Fb%23c.safetensors"
    )


def test_the_server_endpoint_applies_when_the_team_has_none(settings) -> None:
    settings.NESTOPS_HUGGINGFACE_ENDPOINT = "https://hf.internal.example"
    resolved = sources.resolve(url="https://huggingface.co/o/n/blob/main/x.safetensors")
    assert resolved.url == "https://hf.internal.example/o/n/resolve/main/x.safetensors"


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"source": "huggingface", "repo": "o/n/x", "file": "x.safetensors"}, {"repo"}),
        ({"source": "huggingface", "repo": "", "file": "x.safetensors"}, {"repo"}),
        ({"source": "modelscope", "repo": "n", "file": "x.safetensors"}, {"repo"}),
        ({"source": "huggingface", "repo": "o/n", "file": "../x.safetensors"}, {"file"}),
        ({"source": "huggingface", "repo": "o/n", "file": ""}, {"file"}),
        ({"source": "modelscope", "repo": "o/n", "file": "a\\b.ckpt"}, {"file"}),
        (
            {"source": "modelscope", "repo": "o/n", "file": "x.ckpt", "revision": "$(id)"},
            {"revision"},
        ),
        (
            {"source": "huggingface", "repo": "o/../n", "file": "..", "revision": "a b"},
            {"repo", "file", "revision"},
        ),
        ({"source": "civitai", "repo": "o/n", "file": "x.ckpt"}, {"source"}),
        ({"url": "https://x.example/a.ckpt", "repo": "o/n"}, {"url"}),
        ({}, {"url"}),
    ],
)
def test_bad_repository_fields_are_named(fields, errors) -> None:
    with pytest.raises(ValidationError) as caught:
        sources.resolve(**fields)
    assert set(caught.value.message_dict) == errors


# --- tokens, endpoints, connections ----------------------------------------------------------


def test_the_hugging_face_token_goes_to_its_site_and_the_servers_endpoint_only(settings) -> None:
    assert rules.token_provider_for("https://huggingface.co/o/n/resolve/main/x") == "huggingface"
    assert rules.token_provider_for("https://cdn-lfs.huggingface.co/x") == "huggingface"
    assert rules.token_provider_for(f"{MIRROR}/o/n/resolve/main/x") == ""
    settings.NESTOPS_HUGGINGFACE_ENDPOINT = MIRROR
    assert rules.token_provider_for(f"{MIRROR}/o/n/resolve/main/x") == "huggingface"
    # Another port, scheme or host of a look-alike name is another server.
    for elsewhere in (
        "https://hf-mirror.com:8443/o/n/resolve/main/x",
        "http://hf-mirror.com/o/n/resolve/main/x",
        "https://hf-mirror.com.evil.example/o/n/resolve/main/x",
        "https://evil.example/hf-mirror.com/x",
    ):
        assert rules.token_provider_for(elsewhere) == "", elsewhere
    settings.NESTOPS_HUGGINGFACE_ENDPOINT = "https://mirror.example/hf"
    assert rules.token_provider_for("https://mirror.example/hf/o/n/resolve/main/x") == "huggingface"
    assert rules.token_provider_for("https://mirror.example/hfx/o/n/resolve/main/x") == ""
    assert rules.token_provider_for("https://mirror.example/other/x") == ""


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("http://169.254.169.254", "cannot be used"),
        ("http://hf-mirror.com", "cannot be used"),
        ("https://10.0.0.5", "cannot be used"),
        ("https://user:pw@hf-mirror.com", "cannot be used"),
        ("ftp://hf-mirror.com", "cannot be used"),
        ("https://hf-mirror.com/?x=1", "e.g. https://hf-mirror.com"),
    ],
)
def test_a_team_endpoint_is_an_allowed_outbound_url(value, reason) -> None:
    with pytest.raises(ValidationError, match=reason):
        rules.validate_endpoint(value)


def test_endpoints_and_connections_are_normalised() -> None:
    assert rules.validate_endpoint(" https://hf-mirror.com/ ") == MIRROR
    assert rules.validate_endpoint("") == ""
    assert rules.validate_connections("") is None and rules.validate_connections(None) is None
    assert rules.validate_connections("4") == 4 and rules.validate_connections(16) == 16
    for bad in (0, 17, "-1", "eight", "2.5", True):
        with pytest.raises(ValidationError, match="from 1 to 16"):
            rules.validate_connections(bad)


# --- the API and the dashboard form ----------------------------------------------------------


@pytest.fixture
def running(team):
    return make_instance(team, status=Status.RUNNING)


def models_url(instance) -> str:
    return f"/api/v1/instances/{instance.public_id}/models/"


def test_the_api_downloads_a_modelscope_file_by_repository(as_alice, running) -> None:
    response = as_alice.post(
        models_url(running),
        {
            "source": "modelscope",
            "repo": "AI-ModelScope/stable-diffusion-xl-base-1.0",
            "file": "sd_xl_base_1.0.safetensors",
            "kind": "checkpoint",
        },
        format="json",
    )
    assert response.status_code == 202, response.json()
    params = response.json()["params"]
    assert params["url"] == (
        "https://www.modelscope.cn/models/AI-ModelScope/stable-diffusion-xl-base-1.0/resolve/"
        "master/sd_xl_base_1.0.safetensors"
    )
    assert (params["source"], params["revision"], params["connections"]) == (
        "modelscope",
        "master",
        16,
    )
    assert params["path"] == "models/Stable-diffusion/sd_xl_base_1.0.safetensors"


def test_the_api_downloads_hugging_face_files_from_the_teams_endpoint(
    as_alice, running, team
) -> None:
    TeamFileSettings.objects.create(team=team, huggingface_endpoint=MIRROR, download_connections=4)
    by_repo = as_alice.post(
        models_url(running),
        {"source": "huggingface", "repo": "o/n", "file": "loras/ink.safetensors", "kind": "lora"},
        format="json",
    )
    assert by_repo.status_code == 202, by_repo.json()
    assert by_repo.json()["params"]["url"] == f"{MIRROR}/o/n/resolve/main/loras/ink.safetensors"
    assert by_repo.json()["params"]["connections"] == 4
    Operation.objects.update(status="succeeded")
    pasted = as_alice.post(
        models_url(running),
        {"url": "https://huggingface.co/o/n/blob/v2/vae.safetensors?download=true", "kind": "vae"},
        format="json",
    )
    assert pasted.status_code == 202, pasted.json()
    assert pasted.json()["params"]["url"] == f"{MIRROR}/o/n/resolve/v2/vae.safetensors"
    assert pasted.json()["params"]["filename"] == "vae.safetensors"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"source": "huggingface", "repo": "o/n/x", "file": "x.safetensors"}, "repo", "owner/name"),
        ({"source": "modelscope", "repo": "o/n", "file": "../../x.ckpt"}, "file", "without '..'"),
        (
            {"source": "modelscope", "repo": "o/n", "file": "x.ckpt", "revision": "main;id"},
            "revision",
            "revision made of",
        ),
        ({"source": "gitee", "repo": "o/n", "file": "x.ckpt"}, "source", "is not a valid choice"),
        (
            {"url": "https://huggingface.co/o/n/resolve/main/x.ckpt", "repo": "o/n"},
            "url",
            "not both",
        ),
        ({}, "url", "Give the URL of the file"),
        ({"url": "https://huggingface.co/o/n"}, "url", "not a file's"),
        ({"url": "https://huggingface.co/o/n/resolve/main/%2e%2e/x.ckpt"}, "url", "'..'"),
        ({"source": "huggingface", "repo": "o/n", "file": "README.md"}, "filename", "file name"),
        ({"source": "huggingface", "repo": "o/n", "file": "x.ckpt", "mirror": "x"}, "mirror", ""),
        ({"source": "huggingface", "repo": "o/n", "file": "x.ckpt", "token": "hf_x"}, "token", ""),
    ],
)
def test_the_api_refuses_bad_repository_fields_with_a_400_naming_them(
    as_alice, running, body, field, message
) -> None:
    response = as_alice.post(models_url(running), {"kind": "lora", **body}, format="json")
    assert response.status_code == 400, response.content
    details = response.json()["details"]
    assert field in details, details
    assert message in " ".join(details[field])
    assert not Operation.objects.exists()


def test_the_service_checks_the_repository_fields_again(alice, running) -> None:
    requester = Requester(source=Source.API, actor=alice)
    with pytest.raises(InvalidRequest) as caught:
        host_files.request_download(
            instance=running,
            source="huggingface",
            repo="o/n",
            file="a/../../x.safetensors",
            revision="$(reboot)",
            kind="lora",
            requester=requester,
        )
    assert set(caught.value.details) == {"file", "revision"}
    with pytest.raises(InvalidRequest) as pasted:
        host_files.request_download(
            instance=running,
            url="https://modelscope.cn/models/o/n/file/view/master?fileName=..%2Fx.ckpt",
            kind="lora",
            requester=requester,
        )
    assert "without '..'" in pasted.value.details["url"][0]
    assert not Operation.objects.exists()


def test_a_team_endpoint_the_address_policy_refuses_is_refused_when_used(
    alice, running, team
) -> None:
    # Saved before a policy change, say: the URL built on it is checked again.
    TeamFileSettings.objects.create(team=team, huggingface_endpoint="https://10.1.2.3")
    with pytest.raises(InvalidRequest) as caught:
        host_files.request_download(
            instance=running,
            source="huggingface",
            repo="o/n",
            file="x.safetensors",
            kind="lora",
            requester=Requester(source=Source.API, actor=alice),
        )
    assert "private address" in caught.value.details["url"][0]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_dashboard_form_downloads_a_modelscope_file_and_explains_bad_fields(
    alice, running
) -> None:
    page = signed_in(alice)
    action = f"/instances/{running.public_id}/files/download/"
    refused = page.post(
        action,
        {
            "source": "modelscope",
            "repo": "o/n",
            "file": "../x.ckpt",
            "revision": "a b",
            "kind": "lora",
        },
    )
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "without &#x27;..&#x27;" in html and "revision made of" in html
    assert not Operation.objects.exists()
    accepted = page.post(
        action,
        {"source": "modelscope", "repo": "o/n", "file": "styles/ink.safetensors", "kind": "lora"},
    )
    assert accepted.status_code == 302
    operation = Operation.objects.get()
    assert operation.params["url"] == (
        "https://www.modelscope.cn/models/o/n/resolve/master/styles/ink.safetensors"
    )
    assert operation.params["filename"] == "ink.safetensors"


def test_the_settings_page_shows_what_applies_and_where_it_comes_from(
    carol, bob, team, settings
) -> None:
    settings.NESTOPS_GITHUB_MIRROR = "https://ghproxy.example/"
    settings.NESTOPS_DOWNLOAD_CONNECTIONS = 8
    viewer = signed_in(bob)
    page = viewer.get("/account/downloads/").content.decode()
    assert "https://huggingface.co" in page and "https://ghproxy.example/" in page
    assert page.count("the server's default") == 3
    assert "NESTOPS_DOWNLOAD_CONNECTIONS" in page and 'name="huggingface_endpoint"' not in page

    admin = signed_in(carol)
    admin.post(
        "/account/downloads/",
        {"github_mirror": "", "huggingface_endpoint": MIRROR + "/", "download_connections": "4"},
    )
    row = TeamFileSettings.objects.get(team=team)
    assert (row.huggingface_endpoint, row.download_connections) == (MIRROR, 4)
    event = AuditEvent.objects.get(team=team, action=AuditAction.FILE_SETTINGS_CHANGED)
    assert event.details["huggingface_endpoint"] == MIRROR
    page = viewer.get("/account/downloads/").content.decode()
    endpoint_row = page.split('id="effective-nestops_huggingface_endpoint"')[1].split("</tr>")[0]
    assert MIRROR in endpoint_row and "the team's setting" in endpoint_row
    connections_row = page.split('id="effective-nestops_download_connections"')[1].split("</tr>")[0]
    assert ">4<" in connections_row and "the team's setting" in connections_row
    mirror_row = page.split('id="effective-nestops_github_mirror"')[1].split("</tr>")[0]
    assert "the server's default" in mirror_row

    refused = admin.post(
        "/account/downloads/",
        {"huggingface_endpoint": "http://169.254.169.254", "download_connections": "32"},
        follow=True,
    ).content.decode()
    assert "This endpoint cannot be used" in refused and "from 1 to 16" in refused
    row.refresh_from_db()
    assert (row.huggingface_endpoint, row.download_connections) == (MIRROR, 4)
    assert (
        signed_in(bob).post("/account/downloads/", {"download_connections": "1"}).status_code == 403
    )


def test_the_tokens_page_says_the_servers_endpoint_gets_the_hugging_face_token(
    carol, settings
) -> None:
    settings.NESTOPS_HUGGINGFACE_ENDPOINT = MIRROR
    page = signed_in(carol).get("/account/model-site-tokens/").content.decode()
    assert f"Also to {MIRROR}" in page and "never to an endpoint a team sets" in page


def test_the_settings_page_speaks_chinese(bob) -> None:
    chosen = preference(bob)
    chosen.language = "zh-hans"
    chosen.save()
    page = signed_in(bob).get("/account/downloads/").content.decode()
    assert "本团队下载使用的设置" in page and "服务器默认值" in page
