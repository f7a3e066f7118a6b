"""The gateway's image functions against a real cloudsim, through the official SDK."""

from __future__ import annotations

import pytest

from cloud import Conflict, InvalidRequest, ecs
from tests.cloud.test_gateway import REGION, network  # noqa: F401  (fixture)

AI_IMAGE = "ubuntu_22_04_ai_cuda_12_4_pytorch_2_4_x64_40G_alibase_20250722.vhd"


def run(network, token: str, image_id: str = AI_IMAGE):  # noqa: F811
    zone_id, instance_type = network["zone"]
    return ecs.run_instances(
        REGION,
        zone_id=zone_id,
        instance_type=instance_type,
        image_id=image_id,
        security_group_id=network["group"],
        vswitch_id=network["vswitch"],
        instance_name="gw-image-test",
        client_token=token,
    )


def test_it_lists_public_base_images_by_operating_system(sim) -> None:
    linux = ecs.describe_images(REGION, owner_alias="system", os_type="linux")
    assert AI_IMAGE in {image.image_id for image in linux}
    assert all(image.os_type == "linux" and image.available for image in linux)
    assert ecs.describe_image(REGION, "m-doesnotexist") is None


def test_it_captures_copies_and_deletes_an_image(network, sim) -> None:  # noqa: F811
    [host] = run(network, "image-host", image_id=AI_IMAGE).instance_ids
    sim.advance(6)
    image_id = ecs.create_image(
        REGION, instance_id=host, image_name="gw-image", client_token="gw-image-1"
    )
    assert (
        ecs.create_image(REGION, instance_id=host, image_name="gw-image", client_token="gw-image-1")
        == image_id
    )
    creating = ecs.describe_image(REGION, image_id)
    assert creating is not None and creating.status == "Creating" and creating.progress < 100
    assert creating.owner_alias == "self" and creating.snapshot_ids
    with pytest.raises(Conflict) as early:
        ecs.copy_image(
            REGION,
            image_id=image_id,
            destination_region="cn-beijing",
            image_name="gw-image",
            client_token="gw-copy-early",
        )
    assert early.value.code == "IncorrectImageStatus"
    sim.advance(300)
    available = ecs.describe_image(REGION, image_id)
    assert available is not None and available.available and available.progress == 100
    copied = ecs.copy_image(
        REGION,
        image_id=image_id,
        destination_region="cn-beijing",
        image_name="gw-image",
        client_token="gw-copy-1",
    )
    there = ecs.describe_image("cn-beijing", copied)
    assert there is not None and there.is_copied and there.region_id == "cn-beijing"
    ecs.delete_image("cn-beijing", copied)
    assert ecs.describe_image("cn-beijing", copied) is None
    ecs.delete_image(REGION, image_id)
    assert ecs.describe_image(REGION, image_id) is None


def test_a_bad_image_name_is_an_invalid_request(network, sim) -> None:  # noqa: F811
    [host] = run(network, "image-bad-name").instance_ids
    with pytest.raises(InvalidRequest) as caught:
        ecs.create_image(REGION, instance_id=host, image_name="9 bad", client_token="bad-1")
    assert caught.value.code == "InvalidImageName.Malformed"
