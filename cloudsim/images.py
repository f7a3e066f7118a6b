"""Which image an id names in a region, public or the account's own, and what a host made
from it starts with. Shared by RunInstances, DescribeInstances and the image actions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cloudsim.catalog import Image
from cloudsim.errors import CloudError

if TYPE_CHECKING:
    from cloudsim.simulator import Simulator


@dataclass(frozen=True)
class ImageView:
    """An image as a region sees it: a public one, or one of the account's."""

    image_id: str
    status: str
    size_gib: int
    base: Image
    snapshot_id: str = ""


def image_not_found(image_id: str) -> CloudError:
    return CloudError(
        "InvalidImageId.NotFound", f"The specified ImageId does not exist: {image_id}.", 404
    )


def find_image(sim: Simulator, image_id: str, region_id: str, now: float) -> ImageView:
    """The image ``image_id`` in ``region_id``; raises ``InvalidImageId.NotFound``."""
    public = sim.catalog.images.get(image_id)
    if public is not None:
        return ImageView(image_id, "Available", public.size_gib, public)
    own = sim.state.images.get(image_id)
    if own is None or own.region_id != region_id:
        raise image_not_found(image_id)
    base = sim.catalog.image(own.base_image_id)
    return ImageView(image_id, own.status_at(now), own.size_gib, base, own.snapshot_id)


def usable_image(sim: Simulator, image_id: str, region_id: str, now: float) -> ImageView:
    """An image RunInstances may use: it must be Available."""
    view = find_image(sim, image_id, region_id, now)
    if view.status != "Available":
        raise CloudError(
            "IncorrectImageStatus",
            f"The specified image {image_id} is {view.status}; only an Available image can be "
            "used.",
            403,
        )
    return view


def base_image_of(sim: Simulator, image_id: str) -> Image | None:
    """The public image an instance's operating system came from (for DescribeInstances)."""
    public = sim.catalog.images.get(image_id)
    if public is not None:
        return public
    own = sim.state.images.get(image_id)
    return sim.catalog.images.get(own.base_image_id) if own is not None else None


def sandbox_source(sim: Simulator, image_id: str) -> dict[str, str]:
    """The arguments of ``Sandboxes.create`` for a host made from ``image_id``."""
    base = base_image_of(sim, image_id)
    own = sim.state.images.get(image_id)
    return {
        "layout": base.layout if base else "webui",
        "gpu": base.gpu if base else "driver",
        "snapshot_id": own.snapshot_id if own else "",
    }
