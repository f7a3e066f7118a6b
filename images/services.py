"""Writes of the images app: request a build, delete an image. Both are for an admin of a team
(``require_manager``): the images are shared by every team of the cloud account."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import require_cloud_account_role as require_manager
from accounts.requester import Requester
from cloud import ecs
from images.models import ImageBuild, Template, WebUIImage
from nestops import addresses
from nestops.errors import Refused


def bootstrap_sources(template: str) -> dict[str, str]:
    """Where the bootstrap gets the WebUI, its packages and the localization (settings)."""
    forge = template == Template.SD_WEBUI_FORGE
    return {
        "webui_repo": settings.NESTOPS_BOOTSTRAP_FORGE_REPO
        if forge
        else settings.NESTOPS_BOOTSTRAP_WEBUI_REPO,
        "webui_ref": settings.NESTOPS_BOOTSTRAP_FORGE_REF
        if forge
        else settings.NESTOPS_BOOTSTRAP_WEBUI_REF,
        "localization_repo": settings.NESTOPS_BOOTSTRAP_LOCALIZATION_REPO,
        "github_mirror": settings.NESTOPS_GITHUB_MIRROR,
        "pip_index_url": settings.NESTOPS_BOOTSTRAP_PIP_INDEX_URL,
        "pip_find_links": settings.NESTOPS_BOOTSTRAP_PIP_FIND_LINKS,
    }


def check_sources(sources: dict[str, str]) -> None:
    """Every address the host will fetch from passes the outbound address policy; a path on
    the host (an absolute path: a local mirror, a wheel folder) is taken as it is."""
    for key, value in sources.items():
        if not value or key == "webui_ref" or value.startswith("/"):
            continue
        try:
            addresses.check_url(value, allow_private=False)
        except addresses.AddressRefused as exc:
            raise Refused(
                "bootstrap_source_refused",
                _("The bootstrap setting %(key)s (%(value)s) is refused: %(reason)s.")
                % {"key": key, "value": value, "reason": exc},
            ) from None


def request_build(
    *,
    template: str,
    region: str,
    base_image_id: str,
    copy_regions: list[str],
    requester: Requester,
) -> ImageBuild:
    """Checks the request and saves a pending build; the runner starts it on commit."""
    require_manager(requester.user)
    if template not in Template.values:
        raise Refused(
            "invalid_template",
            _("Unknown template %(t)s.") % {"t": template},
        )
    base = ecs.describe_image(region, base_image_id)
    if base is None:
        raise Refused(
            "base_image_not_found",
            _(
                "The base image %(image)s does not exist in %(region)s: pick an Ubuntu 22.04 GPU "
                "image or an Alibaba AI image of that region."
            )
            % {"image": base_image_id, "region": region},
        )
    if base.os_type != "linux":
        raise Refused(
            "base_image_not_linux",
            _("The base image %(image)s is not Linux: pick an Ubuntu 22.04 GPU or AI image.")
            % {"image": base_image_id},
        )
    sources = bootstrap_sources(template)
    check_sources(sources)
    others = sorted({r for r in copy_regions if r and r != region})
    with transaction.atomic():
        build = ImageBuild.objects.create(
            template=template,
            region=region,
            base_image_id=base_image_id,
            copy_regions=others,
            params=sources,
            actor=requester.user,
            source=requester.source,
            deadline_at=timezone.now()
            + timedelta(minutes=settings.NESTOPS_IMAGE_BUILD_DEADLINE_MINUTES),
        )
        transaction.on_commit(lambda: _enqueue(build.pk))
    return build


def _enqueue(build_id: int) -> None:
    from images.tasks import advance_build

    advance_build.delay(build_id)


def delete_image(*, image: WebUIImage, requester: Requester) -> None:
    """Deletes the image in the cloud (hosts made from it keep running) and its record."""
    require_manager(requester.user)
    ecs.delete_image(image.region, image.cloud_image_id, force=True)
    image.delete()
