"""The Images page and the images API: who sees what, who may build and delete."""

from __future__ import annotations

import pytest
from django.test import Client

from images.models import ImageBuild, WebUIImage

pytestmark = pytest.mark.django_db
AI_IMAGE = "ubuntu_22_04_ai_cuda_12_4_pytorch_2_4_x64_40G_alibase_20250722.vhd"


@pytest.fixture
def admin(team, carol):
    return carol


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_lists_base_images_and_offers_a_build_to_an_admin(sim, admin) -> None:
    WebUIImage.objects.create(
        template="sd-webui", region="cn-shanghai", cloud_image_id="m-page", name="page"
    )
    page = _client(admin).get("/images/?region=cn-hangzhou")
    text = page.content.decode()
    assert page.status_code == 200
    assert "m-page" in text and AI_IMAGE in text
    assert 'action="/images/build/"' in text


def test_a_viewer_sees_the_images_but_no_build_form(sim, bob) -> None:
    page = _client(bob).get("/images/")
    assert page.status_code == 200
    assert 'action="/images/build/"' not in page.content.decode()
    assert _client(bob).post("/images/build/", {"template": "sd-webui"}).status_code == 403


def test_the_dashboard_starts_a_build_and_shows_it(sim, admin) -> None:
    response = _client(admin).post(
        "/images/build/",
        {
            "template": "sd-webui",
            "region": "cn-hangzhou",
            "base_image_id": AI_IMAGE,
            "copy_regions": ["cn-shanghai", "cn-beijing"],
        },
    )
    build = ImageBuild.objects.get()
    assert response.status_code == 302 and build.public_id in response["Location"]
    assert build.copy_regions == ["cn-beijing", "cn-shanghai"]
    assert build.params["webui_ref"]
    detail = _client(admin).get(response["Location"])
    assert detail.status_code == 200 and AI_IMAGE in detail.content.decode()


def test_the_api_refuses_a_windows_base_image_with_advice(sim, admin) -> None:
    response = _client(admin).post(
        "/api/v1/image-builds/",
        {
            "template": "sd-webui",
            "region": "cn-hangzhou",
            "base_image_id": "win2022_21H2_x64_dtc_en-us_40G_alibase_20250722.vhd",
        },
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "base_image_not_linux"
    assert not ImageBuild.objects.exists()


def test_the_api_accepts_a_build_and_refuses_unknown_fields(sim, admin) -> None:
    client = _client(admin)
    bad = client.post(
        "/api/v1/image-builds/",
        {"template": "sd-webui", "region": "cn-hangzhou", "base_image_id": AI_IMAGE, "x": 1},
        content_type="application/json",
    )
    assert bad.status_code == 400
    accepted = client.post(
        "/api/v1/image-builds/",
        {"template": "sd-webui", "region": "cn-hangzhou", "base_image_id": AI_IMAGE},
        content_type="application/json",
    )
    assert accepted.status_code == 202
    assert accepted.json()["status"] == "pending"
    listed = client.get("/api/v1/image-builds/").json()
    assert [b["id"] for b in listed["results"]] == [accepted.json()["id"]]


def test_forge_is_pinned_to_a_full_commit_by_default() -> None:
    import re

    from django.conf import settings

    assert re.fullmatch(r"[0-9a-f]{40}", settings.NESTOPS_BOOTSTRAP_FORGE_REF)
