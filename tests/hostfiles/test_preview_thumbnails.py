"""Previews found on a host: read once through its WebUI, kept as a small PNG, served to the
team from a cached URL; a missing, broken or oversized preview leaves no image, not an error."""

from __future__ import annotations

import io
import os

import pytest
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from hostfiles import previews
from hostfiles import services as host_files
from hostfiles.models import ModelFile
from tests.hostfiles.test_inventory import refresh
from tests.hosts import build_host, instance_on

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_runner")]


def image(format: str, size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 160, 90)).save(buffer, format=format)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def previewed_host(cloudsim):
    host = build_host(cloudsim, "files-thumbnails")
    lora = host.webui_dir / "models/Lora"
    lora.mkdir(parents=True, exist_ok=True)
    for name in ("card", "broken", "huge", "plain"):
        (lora / f"{name}.safetensors").write_bytes(os.urandom(100))
    (lora / "card.jpg").write_bytes(image("JPEG", (640, 480)))
    (lora / "broken.preview.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(500))
    (lora / "huge.preview.webp").write_bytes(os.urandom(previews.MAX_HOST_PREVIEW_BYTES + 1))
    return host


def test_previews_found_on_a_host_become_served_thumbnails(
    sim, team, alice, bob, mallory, previewed_host
) -> None:
    instance = instance_on(team, previewed_host, name="thumbnails")
    refresh(instance, alice, sim)
    rows = {m.name: m for m in ModelFile.objects.filter(instance=instance)}
    assert {n for n, m in rows.items() if m.has_preview} == {
        "card.safetensors",
        "broken.safetensors",
        "huge.safetensors",
    }
    assert host_files.read_preview_thumbnails(instance_id=instance.pk) == 1
    # Read once: a second pass has nothing left to read.
    assert host_files.thumbnails_to_read(instance).count() == 0
    assert host_files.read_preview_thumbnails(instance_id=instance.pk) == 0

    card = ModelFile.objects.get(pk=rows["card.safetensors"].pk)
    with Image.open(io.BytesIO(bytes(card.preview_thumbnail))) as thumbnail:
        assert thumbnail.format == "PNG" and thumbnail.size == (96, 72)
    for name in ("broken.safetensors", "huge.safetensors", "plain.safetensors"):
        assert ModelFile.objects.get(pk=rows[name].pk).thumbnail_etag == ""

    api = APIClient()
    api.force_authenticate(bob)  # a viewer of the team
    listed = api.get(f"/api/v1/instances/{instance.public_id}/models/?page_size=50").json()
    urls = {m["name"]: m["thumbnail_url"] for m in listed["results"]}
    assert urls["broken.safetensors"] is None and urls["plain.safetensors"] is None
    assert urls["card.safetensors"].endswith(f"/thumbnail/?v={card.thumbnail_etag}")
    served = api.get(urls["card.safetensors"])
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served.content == bytes(card.preview_thumbnail)
    assert served["Cache-Control"] == "private, max-age=86400"
    again = api.get(urls["card.safetensors"], HTTP_IF_NONE_MATCH=served["ETag"])
    assert again.status_code == 304 and again.content == b""
    broken = rows["broken.safetensors"].public_id
    missing = f"/api/v1/instances/{instance.public_id}/models/{broken}/thumbnail/"
    assert api.get(missing).status_code == 404
    api.force_authenticate(mallory)
    assert api.get(urls["card.safetensors"]).status_code == 404

    page = Client()
    page.force_login(alice)
    html = page.get(f"/instances/{instance.public_id}/files/").content.decode()
    assert f'src="{card.thumbnail_path}"' in html
    assert html.count('class="thumbnail"') == 1

    # A preview that disappears from the host takes its thumbnail with it.
    (previewed_host.webui_dir / "models/Lora/card.jpg").unlink()
    refresh(instance, alice, sim)
    card.refresh_from_db()
    assert (card.has_preview, card.thumbnail_etag, bytes(card.preview_thumbnail)) == (
        False,
        "",
        b"",
    )


def test_a_host_that_does_not_answer_is_read_again_later(sim, team, alice, previewed_host):
    card = previewed_host.webui_dir / "models/Lora/card.jpg"
    card.write_bytes(image("JPEG", (640, 480)))
    instance = instance_on(team, previewed_host, name="thumbnails-later")
    refresh(instance, alice, sim)
    endpoint = instance.webui_endpoint
    instance.webui_endpoint = "http://127.0.0.1:9/"
    instance.save(update_fields=["webui_endpoint"])
    assert host_files.read_preview_thumbnails(instance_id=instance.pk) == 0
    assert host_files.thumbnails_to_read(instance).count() == 3
    instance.webui_endpoint = endpoint
    instance.save(update_fields=["webui_endpoint"])
    assert host_files.read_preview_thumbnails(instance_id=instance.pk) == 1


def test_a_thumbnail_is_made_of_any_accepted_image_and_nothing_else() -> None:
    assert previews.thumbnail_of(image("WEBP", (300, 600))) is not None
    assert previews.thumbnail_of(b"GIF89a" + os.urandom(100)) is None
    assert previews.thumbnail_of(os.urandom(previews.MAX_HOST_PREVIEW_BYTES + 1)) is None


def test_previews_are_never_read_from_an_address_the_instance_does_not_own(
    sim, team, alice, previewed_host
) -> None:
    (previewed_host.webui_dir / "models/Lora/card.jpg").write_bytes(image("JPEG", (640, 480)))
    instance = instance_on(team, previewed_host, name="thumbnails-elsewhere")
    refresh(instance, alice, sim)
    for endpoint in ("http://169.254.169.254/", "http://100.100.100.200/", "http://10.9.9.9/"):
        instance.webui_endpoint = endpoint
        instance.save(update_fields=["webui_endpoint"])
        assert host_files.read_preview_thumbnails(instance_id=instance.pk) == 0
        assert host_files.thumbnails_to_read(instance).count() == 3
