"""ECS 2014-05-26, one module per resource: the catalog (regions, instance types, stock,
prices), images, instances, security groups and files sent to hosts. Callers use ``from cloud import
ecs`` and ``ecs.<name>``: every public name of the modules is here.
"""

from __future__ import annotations

from cloud.ecs.catalog import (
    INTERNET_CHARGE_TYPE,
    Availability,
    InstanceTypeSpec,
    Price,
    PriceComponent,
    Region,
    Zone,
    describe_available_resource,
    describe_instance_types,
    describe_price,
    describe_regions,
    describe_zones,
)
from cloud.ecs.files import SendFileResult, describe_send_file, send_file
from cloud.ecs.images import (
    Image,
    copy_image,
    create_image,
    delete_image,
    describe_image,
    describe_images,
)
from cloud.ecs.instances import (
    DESCRIBE_INSTANCES_MAX_IDS,
    Instance,
    InstancePage,
    RunResult,
    delete_instance,
    describe_instances,
    describe_instances_page,
    iter_instances,
    modify_instance_spec,
    reboot_instance,
    run_instances,
    start_instance,
    stop_instance,
)
from cloud.ecs.security_groups import (
    Permission,
    authorize_security_group,
    create_security_group,
    delete_security_group,
    describe_security_group_permissions,
)

__all__ = [
    "DESCRIBE_INSTANCES_MAX_IDS",
    "INTERNET_CHARGE_TYPE",
    "Availability",
    "Image",
    "Instance",
    "InstancePage",
    "InstanceTypeSpec",
    "Permission",
    "Price",
    "PriceComponent",
    "Region",
    "RunResult",
    "SendFileResult",
    "Zone",
    "authorize_security_group",
    "copy_image",
    "create_image",
    "create_security_group",
    "delete_image",
    "delete_instance",
    "delete_security_group",
    "describe_available_resource",
    "describe_image",
    "describe_images",
    "describe_instance_types",
    "describe_instances",
    "describe_instances_page",
    "describe_price",
    "describe_regions",
    "describe_security_group_permissions",
    "describe_send_file",
    "describe_zones",
    "iter_instances",
    "modify_instance_spec",
    "reboot_instance",
    "run_instances",
    "send_file",
    "start_instance",
    "stop_instance",
]
