"""ECS images: public base images, CreateImage, CopyImage, DeleteImage and their states; a host
made from a captured image starts with the captured disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from alibabacloud_ecs20140526 import models as m
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_vpc20160428 import models as vpc_models

from tests.cloudsim import helpers

AI_IMAGE = "ubuntu_22_04_ai_cuda_12_4_pytorch_2_4_x64_40G_alibase_20250722.vhd"
PLAIN_UBUNTU = "ubuntu_22_04_x64_20G_alibase_20250722.vhd"
WINDOWS = "win2022_21H2_x64_dtc_en-us_40G_alibase_20250722.vhd"


def _describe(ecs, region: str = helpers.REGION, **filters):
    return ecs.describe_images(
        m.DescribeImagesRequest(region_id=region, page_size=100, **filters)
    ).body


def _image(ecs, image_id: str, region: str = helpers.REGION):
    body = _describe(ecs, region, image_id=image_id, status="Creating,Available")
    [image] = body.images.image
    return image


def _sandbox(sim, host_id: str) -> Path:
    return Path(sim.instance(host_id)["sandbox"])


def test_it_lists_the_public_base_images_with_their_operating_systems(sim, ecs):
    body = _describe(ecs, image_owner_alias="system")
    helpers.assert_typed(body)
    by_id = {image.image_id: image for image in body.images.image}
    assert {AI_IMAGE, PLAIN_UBUNTU, WINDOWS} <= set(by_id)
    assert by_id[AI_IMAGE].ostype == "linux"
    assert by_id[AI_IMAGE].status == "Available"
    assert by_id[AI_IMAGE].progress == "100%"
    assert by_id[WINDOWS].ostype == "windows"
    linux = _describe(ecs, image_owner_alias="system", ostype="linux")
    assert WINDOWS not in {image.image_id for image in linux.images.image}


def test_a_host_from_a_base_image_has_no_webui_until_one_is_installed(sim, ecs, make_hosts):
    [host_id] = make_hosts(image_id=AI_IMAGE)
    sandbox = _sandbox(sim, host_id)
    assert not (sandbox / "root/stable-diffusion-webui").exists()
    assert (sandbox / ".sim/bin/nvidia-smi").exists()
    assert (sandbox / "usr/local/cuda/version.json").exists()
    execution = helpers.run_script(
        helpers.oos(sim), [host_id], "systemctl is-active sd-webui; echo rc=$?"
    )
    assert "rc=5" in execution.outputs
    [plain] = make_hosts(image_id=PLAIN_UBUNTU)
    assert not (_sandbox(sim, plain) / ".sim/bin/nvidia-smi").exists()


def test_create_image_captures_the_disk_and_becomes_available_with_progress(sim, ecs, make_hosts):
    [host_id] = make_hosts(image_id=AI_IMAGE)
    installed = _sandbox(sim, host_id) / "root/stable-diffusion-webui/marker.txt"
    installed.parent.mkdir(parents=True)
    installed.write_text("built\n")
    image_id = ecs.create_image(
        m.CreateImageRequest(
            region_id=helpers.REGION,
            instance_id=host_id,
            image_name="nestops-a1111-test",
            client_token="create-image-1",
        )
    ).body.image_id
    assert image_id.startswith("m-bp1")
    again = ecs.create_image(
        m.CreateImageRequest(
            region_id=helpers.REGION,
            instance_id=host_id,
            image_name="nestops-a1111-test",
            client_token="create-image-1",
        )
    ).body.image_id
    assert again == image_id
    image = _image(ecs, image_id)
    helpers.assert_typed(image)
    assert image.status == "Creating"
    assert image.image_owner_alias == "self"
    assert image.ostype == "linux"
    [mapping] = image.disk_device_mappings.disk_device_mapping
    assert mapping.snapshot_id.startswith("s-")
    assert int(image.progress.rstrip("%")) < 100
    # Not in the default listing (Available only) while it is being made.
    assert image_id not in {i.image_id for i in _describe(ecs).images.image}
    with pytest.raises(ClientException) as refused:
        helpers.run_instances(ecs, _network(sim, helpers.REGION), image_id=image_id)
    assert refused.value.code == "IncorrectImageStatus"
    sim.advance(200)
    image = _image(ecs, image_id)
    assert (image.status, image.progress) == ("Available", "100%")
    [copy] = _hosts_from(sim, ecs, image_id, helpers.REGION)
    assert (_sandbox(sim, copy) / "root/stable-diffusion-webui/marker.txt").read_text() == (
        "built\n"
    )


def test_copy_image_makes_the_image_usable_in_another_region(sim, ecs, make_hosts):
    [host_id] = make_hosts(image_id=AI_IMAGE)
    (_sandbox(sim, host_id) / "root/built.txt").write_text("yes\n")
    image_id = ecs.create_image(
        m.CreateImageRequest(region_id=helpers.REGION, instance_id=host_id, image_name="to-copy")
    ).body.image_id
    with pytest.raises(ClientException) as early:
        ecs.copy_image(
            m.CopyImageRequest(
                region_id=helpers.REGION, image_id=image_id, destination_region_id="cn-shanghai"
            )
        )
    assert early.value.code == "IncorrectImageStatus"
    sim.advance(200)
    copied = ecs.copy_image(
        m.CopyImageRequest(
            region_id=helpers.REGION,
            image_id=image_id,
            destination_region_id="cn-shanghai",
            destination_image_name="copied",
        )
    ).body.image_id
    assert copied.startswith("m-uf6")
    hangzhou = _describe(ecs, image_id=copied, status="Creating,Available")
    assert hangzhou.total_count == 0
    image = _image(ecs, copied, "cn-shanghai")
    assert (image.status, image.is_copied) == ("Creating", True)
    sim.advance(200)
    [host] = _hosts_from(sim, ecs, copied, "cn-shanghai", zone="cn-shanghai-e")
    assert (_sandbox(sim, host) / "root/built.txt").read_text() == "yes\n"


def test_delete_image_refuses_an_image_in_use_unless_forced(sim, ecs, make_hosts):
    [host_id] = make_hosts(image_id=AI_IMAGE)
    image_id = ecs.create_image(
        m.CreateImageRequest(region_id=helpers.REGION, instance_id=host_id, image_name="in-use")
    ).body.image_id
    sim.advance(200)
    _hosts_from(sim, ecs, image_id, helpers.REGION)
    with pytest.raises(ClientException) as refused:
        ecs.delete_image(m.DeleteImageRequest(region_id=helpers.REGION, image_id=image_id))
    assert refused.value.code == "ImageUsedByInstance"
    ecs.delete_image(m.DeleteImageRequest(region_id=helpers.REGION, image_id=image_id, force=True))
    assert _describe(ecs, image_id=image_id, status="Creating,Available").total_count == 0
    # Deleting it again is ignored, like the cloud does for an image that does not exist.
    ecs.delete_image(m.DeleteImageRequest(region_id=helpers.REGION, image_id=image_id))
    with pytest.raises(ClientException) as public:
        ecs.delete_image(m.DeleteImageRequest(region_id=helpers.REGION, image_id=AI_IMAGE))
    assert public.value.code == "InvalidImageId.NotSupported"


def test_create_image_checks_the_instance_and_the_name(sim, ecs, make_hosts):
    [host_id] = make_hosts()
    with pytest.raises(ClientException) as bad_name:
        ecs.create_image(
            m.CreateImageRequest(region_id=helpers.REGION, instance_id=host_id, image_name="1x")
        )
    assert bad_name.value.code == "InvalidImageName.Malformed"
    with pytest.raises(ClientException) as missing:
        ecs.create_image(m.CreateImageRequest(region_id=helpers.REGION, instance_id="i-bp1missing"))
    assert missing.value.code == "InvalidInstanceId.NotFound"
    with pytest.raises(ClientException) as dry:
        ecs.create_image(
            m.CreateImageRequest(region_id=helpers.REGION, instance_id=host_id, dry_run=True)
        )
    assert dry.value.code == "DryRunOperation"


_networks: dict[str, dict[str, str]] = {}


def _network(sim, region: str, zone: str = helpers.ZONE) -> dict[str, str]:
    """A network of the test's own per region (the shared one is in Hangzhou only)."""
    key = f"{sim.endpoint}:{region}:{zone}"
    if key in _networks:
        return _networks[key]
    vpc = helpers.vpc(sim)
    ecs = helpers.ecs(sim)
    vpc_id = vpc.create_vpc(
        vpc_models.CreateVpcRequest(region_id=region, cidr_block="10.40.0.0/16")
    ).body.vpc_id
    sim.advance(2)
    vswitch_id = vpc.create_vswitch(
        vpc_models.CreateVSwitchRequest(
            region_id=region, vpc_id=vpc_id, zone_id=zone, cidr_block="10.40.0.0/18"
        )
    ).body.v_switch_id
    group_id = ecs.create_security_group(
        m.CreateSecurityGroupRequest(region_id=region, vpc_id=vpc_id)
    ).body.security_group_id
    sim.advance(2)
    _networks[key] = {"vpc_id": vpc_id, "vswitch_id": vswitch_id, "security_group_id": group_id}
    return _networks[key]


def _hosts_from(sim, ecs, image_id: str, region: str, zone: str = helpers.ZONE) -> list[str]:
    sim.set_stock(zone, helpers.T4, 1000)
    response = helpers.run_instances(
        ecs, _network(sim, region, zone), image_id=image_id, region_id=region, zone_id=zone
    )
    sim.advance(6)
    return list(response.body.instance_id_sets.instance_id_set)


def test_custom_images_and_their_snapshots_survive_a_restart(tmp_path):
    from cloudsim.testing import start_sim
    from tests.cloudsim.test_persistence import _network

    first = start_sim(tmp_path, speed=20)
    try:
        network = _network(first)
        ecs = helpers.ecs(first)
        [host] = helpers.run_instances(
            ecs, network, image_id=AI_IMAGE
        ).body.instance_id_sets.instance_id_set
        first.advance(6)
        (Path(first.instance(host)["sandbox"]) / "root/kept.txt").write_text("kept\n")
        image_id = ecs.create_image(
            m.CreateImageRequest(region_id=helpers.REGION, instance_id=host, image_name="kept")
        ).body.image_id
        first.advance(200)
    finally:
        first.stop()
    second = start_sim(tmp_path, speed=20)
    try:
        ecs = helpers.ecs(second)
        image = _image(ecs, image_id)
        assert (image.status, image.image_name) == ("Available", "kept")
        [copy] = helpers.run_instances(
            ecs, network, image_id=image_id
        ).body.instance_id_sets.instance_id_set
        second.advance(6)
        assert (Path(second.instance(copy)["sandbox"]) / "root/kept.txt").read_text() == "kept\n"
    finally:
        second.stop()
