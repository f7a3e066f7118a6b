"""Building a WebUI image: the bootstrap really runs in cloudsim's bash against local stand-ins,
the image is captured, copied to another region, recorded, and deploys use it."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from accounts.requester import Requester, Source
from cloud import ecs, vpc
from images import builder
from images.models import BuildStatus, ImageBuild, WebUIImage
from images.services import request_build
from instances import catalog
from nestops.errors import Refused
from tests.images import standins

REGION = "cn-hangzhou"
AI_IMAGE = "ubuntu_22_04_ai_cuda_12_4_pytorch_2_4_x64_40G_alibase_20250722.vhd"
PLAIN_UBUNTU = "ubuntu_22_04_x64_20G_alibase_20250722.vhd"
WINDOWS = "win2022_21H2_x64_dtc_en-us_40G_alibase_20250722.vhd"


@pytest.fixture
def bootstrap_sources(settings, tmp_path: Path):
    for name, value in standins.sources(tmp_path).items():
        setattr(settings, name, value)
    settings.NESTOPS_IMAGE_BUILD_WAIT_SECONDS = 20
    settings.NESTOPS_POLL_SECONDS = 0.05
    return settings


@pytest.fixture
def admin(team, alice):
    from accounts.models import Membership, Role

    Membership.objects.filter(user=alice, team=team).update(role=Role.ADMIN)
    return alice


def drive(build: ImageBuild, sim, *, limit: int = 800) -> ImageBuild:
    for _ in range(limit):
        build.refresh_from_db()
        if build.status in (BuildStatus.SUCCEEDED, BuildStatus.FAILED):
            return build
        ImageBuild.objects.filter(pk=build.pk).update(
            next_attempt_at=timezone.now(), lease_until=None
        )
        builder.advance(build.pk)
        sim.advance(5)
        time.sleep(0.02)
    raise AssertionError(f"{build.public_id} did not finish: {build.status}\n{build.log}")


def _requester(user) -> Requester:
    return Requester(source=Source.API, actor=user)


def _leftovers(build: ImageBuild) -> list[str]:
    """What the build made that still exists in the cloud."""
    state = build.state
    left = []
    if state.get("host_id") and ecs.describe_instances(REGION, [state["host_id"]]):
        left.append(state["host_id"])
    if state.get("vpc_id") and vpc.describe_vpc(REGION, state["vpc_id"]) is not None:
        left.append(state["vpc_id"])
    for region, image_id in {
        **state.get("copies", {}),
        REGION: state.get("image_id", ""),
    }.items():
        if image_id and ecs.describe_image(region, image_id) is not None:
            left.append(image_id)
    return left


@pytest.mark.django_db(transaction=True)
def test_it_builds_an_image_copies_it_and_deploys_use_it(sim, bootstrap_sources, admin):
    build = request_build(
        template="sd-webui",
        region=REGION,
        base_image_id=AI_IMAGE,
        copy_regions=["cn-shanghai"],
        requester=_requester(admin),
    )
    build = drive(build, sim)
    assert build.status == BuildStatus.SUCCEEDED, build.log
    installed = subprocess.run(
        ["git", "-C", bootstrap_sources.NESTOPS_BOOTSTRAP_WEBUI_REPO, "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert build.state["webui_commit"] == installed
    images = {i.region: i for i in WebUIImage.objects.filter(build=build)}
    assert set(images) == {REGION, "cn-shanghai"}
    assert {i.webui_commit for i in images.values()} == {installed}
    client = Client()
    client.force_login(admin)
    assert installed[:12] in client.get("/images/").content.decode()
    for region, image in images.items():
        found = ecs.describe_image(region, image.cloud_image_id)
        assert found is not None and found.available and found.owner_alias == "self"
    # The temporary host and its network are gone; the images stay.
    assert set(_leftovers(build)) == {i.cloud_image_id for i in images.values()}
    assert catalog.image_for("sd-webui", "cn-shanghai") == images["cn-shanghai"].cloud_image_id
    assert catalog.image_for("sd-webui-forge", "cn-shanghai") == "m-sim-sd-forge"


@pytest.mark.django_db(transaction=True)
def test_the_captured_disk_follows_the_host_contract(sim, bootstrap_sources, admin):
    build = drive(
        request_build(
            template="sd-webui",
            region=REGION,
            base_image_id=AI_IMAGE,
            copy_regions=[],
            requester=_requester(admin),
        ),
        sim,
    )
    assert build.status == BuildStatus.SUCCEEDED, build.log
    [image] = WebUIImage.objects.filter(build=build)
    host = _host_from(sim, image.cloud_image_id)
    sandbox = Path(sim.instance(host)["sandbox"])
    webui = sandbox / "root/stable-diffusion-webui"
    assert (webui / "webui.sh").exists()
    assert (webui / "models/Stable-diffusion").is_dir()
    assert (webui / "extensions/stable-diffusion-webui-localization-zh_CN/localizations").is_dir()
    assert list((webui / "venv").glob("lib/python3*/site-packages/nestops_standin"))
    env = (sandbox / "etc/sd-webui/webui.env").read_text()
    assert env == 'COMMANDLINE_ARGS="--listen --port 7860 --api"\n'
    unit = (sandbox / "etc/systemd/system/sd-webui.service").read_text()
    assert "EnvironmentFile=/etc/sd-webui/webui.env" in unit
    assert (sandbox / "run/sd-webui.enabled").read_text().strip() == "enabled"


@pytest.mark.django_db(transaction=True)
def test_a_base_image_without_the_gpu_driver_fails_and_leaves_nothing(
    sim, bootstrap_sources, admin
):
    build = drive(
        request_build(
            template="sd-webui",
            region=REGION,
            base_image_id=PLAIN_UBUNTU,
            copy_regions=["cn-shanghai"],
            requester=_requester(admin),
        ),
        sim,
    )
    assert build.status == BuildStatus.FAILED
    assert build.error_code == "NoGpuDriver"
    assert "NVIDIA driver" in build.error_message
    assert _leftovers(build) == []
    assert not WebUIImage.objects.filter(build=build).exists()


@pytest.mark.django_db(transaction=True)
def test_a_version_the_repository_lacks_fails_the_build_and_cleans_up(
    sim, bootstrap_sources, admin
):
    bootstrap_sources.NESTOPS_BOOTSTRAP_WEBUI_REF = "v0.0.0-missing"
    build = drive(
        request_build(
            template="sd-webui",
            region=REGION,
            base_image_id=AI_IMAGE,
            copy_regions=[],
            requester=_requester(admin),
        ),
        sim,
    )
    assert build.status == BuildStatus.FAILED
    assert build.error_code == "CheckoutFailed"
    assert "v0.0.0-missing" in build.error_message
    assert _leftovers(build) == []


@pytest.mark.django_db
def test_a_windows_or_unknown_base_image_is_refused_before_anything_starts(
    sim, bootstrap_sources, admin
):
    with pytest.raises(Refused) as windows:
        request_build(
            template="sd-webui",
            region=REGION,
            base_image_id=WINDOWS,
            copy_regions=[],
            requester=_requester(admin),
        )
    assert windows.value.code == "base_image_not_linux"
    with pytest.raises(Refused) as unknown:
        request_build(
            template="sd-webui",
            region=REGION,
            base_image_id="m-doesnotexist",
            copy_regions=[],
            requester=_requester(admin),
        )
    assert unknown.value.code == "base_image_not_found"
    assert not ImageBuild.objects.exists()


@pytest.mark.django_db
def test_only_an_admin_may_build(sim, bootstrap_sources, bob):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        request_build(
            template="sd-webui",
            region=REGION,
            base_image_id=AI_IMAGE,
            copy_regions=[],
            requester=_requester(bob),
        )


def _host_from(sim, image_id: str) -> str:
    """A host made from the image, in a network of its own."""
    offer = next(
        a
        for a in ecs.describe_available_resource(REGION)
        if a.in_stock and (a.instance_type or "").startswith("ecs.gn6i-c4g1")
    )
    vpc_id, _ = vpc.create_vpc(
        REGION, cidr_block="172.16.0.0/16", name="from-image", client_token=f"{image_id}-vpc"
    )
    sim.advance(5)
    vswitch_id, _ = vpc.create_vswitch(
        REGION,
        vpc_id=vpc_id,
        zone_id=offer.zone_id,
        cidr_block="172.16.1.0/24",
        name="from-image",
        client_token=f"{image_id}-vsw",
    )
    sim.advance(5)
    group_id, _ = ecs.create_security_group(
        REGION, vpc_id=vpc_id, name="from-image", client_token=f"{image_id}-sg"
    )
    [host] = ecs.run_instances(
        REGION,
        zone_id=offer.zone_id,
        instance_type=offer.instance_type,
        image_id=image_id,
        security_group_id=group_id,
        vswitch_id=vswitch_id,
        instance_name="from-image",
        client_token=f"{image_id}-run",
    ).instance_ids
    return host


@pytest.mark.django_db(transaction=True)
def test_a_deploy_in_the_copied_region_starts_from_the_built_image(
    sim, bootstrap_sources, admin, team
) -> None:
    from accounts.requester import Requester as Asker
    from instances.services import NewInstance
    from operations.models import OperationStatus
    from operations.services import request_deploy
    from tests.driving import drive as drive_operation

    bootstrap_sources.NESTOPS_WEBUI_READY_TIMEOUT_SECONDS = 30
    build = drive(
        request_build(
            template="sd-webui",
            region=REGION,
            base_image_id=AI_IMAGE,
            copy_regions=["cn-shanghai"],
            requester=_requester(admin),
        ),
        sim,
    )
    assert build.status == BuildStatus.SUCCEEDED, build.log
    copied = WebUIImage.objects.get(build=build, region="cn-shanghai").cloud_image_id
    zone = next(
        a.zone_id
        for a in ecs.describe_available_resource("cn-shanghai")
        if a.in_stock and a.instance_type == "ecs.gn6i-c4g1.xlarge"
    )
    instance, operation = request_deploy(
        spec=NewInstance(
            team=team,
            name="from-built-image",
            template="sd-webui",
            region="cn-shanghai",
            zone=zone,
            instance_type="ecs.gn6i-c4g1.xlarge",
            webui_language="zh_CN",
        ),
        requester=Asker(source=Source.API, actor=admin),
    )
    operation = drive_operation(operation, sim)
    assert operation.status == OperationStatus.SUCCEEDED, operation.log
    instance.refresh_from_db()
    host = ecs.describe_instances("cn-shanghai", [instance.cloud_instance_id])
    assert host[instance.cloud_instance_id].image_id == copied
    config = Path(sim.instance(instance.cloud_instance_id)["sandbox"]) / (
        "root/stable-diffusion-webui/config.json"
    )
    assert '"localization": "zh_CN"' in config.read_text()
    assert "warning" not in operation.log


@pytest.mark.django_db(transaction=True)
def test_a_build_past_its_deadline_cleans_up_what_it_made(sim, bootstrap_sources, admin) -> None:
    from datetime import timedelta

    build = request_build(
        template="sd-webui",
        region=REGION,
        base_image_id=AI_IMAGE,
        copy_regions=[],
        requester=_requester(admin),
    )
    for _ in range(200):
        ImageBuild.objects.filter(pk=build.pk).update(
            next_attempt_at=timezone.now(), lease_until=None
        )
        builder.advance(build.pk)
        sim.advance(5)
        build.refresh_from_db()
        if build.state.get("host_id"):
            break
    assert build.state.get("host_id"), build.log
    ImageBuild.objects.filter(pk=build.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    build = drive(build, sim)
    assert build.status == BuildStatus.FAILED
    assert build.error_code == "DeadlineExceeded"
    assert _leftovers(build) == []
    assert [s["name"] for s in build.steps if s["phase"] == "cleanup"][:2] == [
        "cancel_bootstrap",
        "delete_host",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_webui_that_never_answers_fails_the_build_and_leaves_nothing(
    sim, bootstrap_sources, admin, tmp_path
) -> None:
    broken = standins.git_repository(
        tmp_path / "no-launcher",
        {"requirements_versions.txt": f"{standins.PACKAGE}==1.0\n"},
        tag=standins.WEBUI_REF,
    )
    bootstrap_sources.NESTOPS_BOOTSTRAP_WEBUI_REPO = str(broken)
    bootstrap_sources.NESTOPS_IMAGE_BUILD_WAIT_SECONDS = 4
    build = drive(
        request_build(
            template="sd-webui",
            region=REGION,
            base_image_id=AI_IMAGE,
            copy_regions=["cn-shanghai"],
            requester=_requester(admin),
        ),
        sim,
    )
    assert build.status == BuildStatus.FAILED
    assert build.error_code == "WebUINotAnswering"
    assert "did not answer" in build.error_message
    assert _leftovers(build) == []
    assert not WebUIImage.objects.filter(build=build).exists()
