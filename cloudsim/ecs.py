"""ECS instance lifecycle: the state machine, stock, addresses, and the actions that move hosts.

Transitions are scheduled as phases on the sim clock and read lazily (see ``state.Instance``).
All durations are in this one table, in sim seconds.
"""

from __future__ import annotations

import calendar
import ipaddress
import math
import time
from typing import TYPE_CHECKING, Any

from cloudsim import ids
from cloudsim.api import Call, action
from cloudsim.errors import (
    CloudError,
    dry_run_passed,
    incorrect_instance_status,
    instance_not_found,
    no_stock,
)
from cloudsim.state import DELETE_RELEASE_SECONDS, Instance, State, VSwitch

if TYPE_CHECKING:
    from cloudsim.simulator import Simulator

# Phase offsets in sim seconds from the moment of the call.
TRANSITIONS: dict[str, tuple[tuple[float, str], ...]] = {
    "create": ((0.0, "Pending"), (2.0, "Starting"), (5.0, "Running")),
    "start": ((0.0, "Starting"), (5.0, "Running")),
    "stop": ((0.0, "Stopping"), (5.0, "Stopped")),
    "reboot": ((0.0, "Stopping"), (3.0, "Starting"), (6.0, "Running")),
    "delete": ((0.0, "Deleted"),),
}
STATUSES = ("Pending", "Running", "Starting", "Stopping", "Stopped")
POSTPAID_EXPIRED_TIME = "2099-12-31T15:59Z"
SECONDS_PER_DAY = 86_400


def live_instance(sim: Simulator, instance_id: str | None) -> Instance:
    if not instance_id:
        raise CloudError(
            "MissingParameter",
            'The input parameter "InstanceId" that is mandatory for processing this request is '
            "not supplied.",
        )
    instance = sim.state.instances.get(instance_id)
    if instance is None:
        raise instance_not_found(instance_id)
    return instance


# --- stock and addresses -------------------------------------------------------------------


def take_stock(state: State, zone_id: str, instance_type: str, amount: int = 1) -> None:
    available = state.stock.get((zone_id, instance_type), 0)
    if available < amount:
        raise no_stock(zone_id, instance_type)
    state.stock[(zone_id, instance_type)] = available - amount


def release_stock(state: State, zone_id: str, instance_type: str, amount: int = 1) -> None:
    key = (zone_id, instance_type)
    state.stock[key] = state.stock.get(key, 0) + amount


def allocate_private_ip(vswitch: VSwitch) -> str:
    network = ipaddress.ip_network(vswitch.cidr_block)
    # The first address and the last three of every vSwitch CIDR block are reserved.
    last_usable = network.num_addresses - 4
    if vswitch.released:
        offset = vswitch.released.pop()
    elif vswitch.next_offset <= last_usable:
        offset = vswitch.next_offset
        vswitch.next_offset += 1
    else:
        raise CloudError(
            "InvalidVSwitchId.IpNotEnough",
            f"The vSwitch {vswitch.vswitch_id} has no free private IP address left.",
            403,
        )
    vswitch.used += 1
    return str(network.network_address + offset)


def release_private_ip(vswitch: VSwitch | None, address: str) -> None:
    if vswitch is None or not address:
        return
    network = ipaddress.ip_network(vswitch.cidr_block)
    vswitch.released.append(int(ipaddress.ip_address(address)) - int(network.network_address))
    vswitch.used = max(0, vswitch.used - 1)


def assign_public_ip(state: State, instance: Instance) -> None:
    if instance.bandwidth_out > 0 and not instance.public_ip:
        instance.public_ip = ids.public_ip(state.public_ips)
        state.public_ips.add(instance.public_ip)


def release_public_ip(state: State, instance: Instance) -> None:
    if instance.public_ip:
        state.public_ips.discard(instance.public_ip)
        instance.public_ip = ""


# --- subscription periods ------------------------------------------------------------------


def add_period(start: float, period: int, unit: str) -> float:
    """End of a subscription: ``period`` weeks or months after ``start``, rounded up to the
    next 16:00 UTC (midnight in China), where the real cloud's subscriptions end."""
    if unit == "Week":
        end = start + period * 7 * SECONDS_PER_DAY
    else:
        moment = time.gmtime(start)
        months = moment.tm_mon - 1 + period
        year, month = moment.tm_year + months // 12, months % 12 + 1
        day = min(moment.tm_mday, calendar.monthrange(year, month)[1])
        end = calendar.timegm(
            (year, month, day, moment.tm_hour, moment.tm_min, moment.tm_sec, 0, 0, 0)
        )
    boundary_shift = 16 * 3600
    days = math.ceil((end - boundary_shift) / SECONDS_PER_DAY)
    return float(days * SECONDS_PER_DAY + boundary_shift)


def expiry(instance: Instance, now: float) -> float | None:
    """When a PrePaid host's subscription ends, renewing it lazily when AutoRenew is on."""
    if instance.expired_at is None:
        return None
    if instance.auto_renew:
        while instance.expired_at <= now:
            instance.expired_at = add_period(
                instance.expired_at, max(1, instance.auto_renew_period), "Month"
            )
    return instance.expired_at


def depends_on(
    sim: Simulator, now: float, *, security_group_id: str = "", vswitch_id: str = ""
) -> bool:
    """Whether a live host, or one deleted less than a few sim seconds ago, uses the resource."""
    for instance in sim.state.instances.values():
        if security_group_id in instance.security_group_ids or vswitch_id == instance.vswitch_id:
            return True
    for instance in sim.state.deleted.values():
        recent = (
            instance.deleted_at is not None and now - instance.deleted_at < DELETE_RELEASE_SECONDS
        )
        if recent and (
            security_group_id in instance.security_group_ids or vswitch_id == instance.vswitch_id
        ):
            return True
    return False


# --- lifecycle actions ---------------------------------------------------------------------


@action("Ecs", "StartInstance")
def start_instance(sim: Simulator, call: Call) -> dict[str, Any]:
    instance = live_instance(sim, call.params.text("InstanceId"))
    status = instance.status_at(call.now)
    if status != "Stopped":
        raise incorrect_instance_status(instance.instance_id, status, "Stopped")
    if not instance.holds_stock:
        # A StopCharging stop gave the GPU back: the host needs stock again to start.
        available = sim.state.stock.get((instance.zone_id, instance.instance_type), 0)
        if available < 1:
            raise no_stock(instance.zone_id, instance.instance_type)
    if call.params.boolean("DryRun"):
        raise dry_run_passed()
    if not instance.holds_stock:
        take_stock(sim.state, instance.zone_id, instance.instance_type)
        instance.holds_stock = True
    assign_public_ip(sim.state, instance)
    instance.schedule(call.now, TRANSITIONS["start"])
    instance.started_at = call.now
    instance.stopped_mode = "Not-applicable"
    sim.sandboxes.boot(instance.instance_id)
    return {}


@action("Ecs", "StopInstance")
def stop_instance(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    instance = live_instance(sim, params.text("InstanceId"))
    mode = params.text("StoppedMode", choices=("StopCharging", "KeepCharging"))
    params.boolean("ForceStop")
    status = instance.status_at(call.now)
    if status != "Running":
        raise incorrect_instance_status(instance.instance_id, status, "Running")
    if params.boolean("DryRun"):
        raise dry_run_passed()
    # Like the cloud, the default is KeepCharging; a subscription cannot stop charging.
    if mode is None or instance.charge_type == "PrePaid":
        mode = "KeepCharging"
    if mode == "StopCharging":
        release_stock(sim.state, instance.zone_id, instance.instance_type)
        instance.holds_stock = False
        release_public_ip(sim.state, instance)
    instance.stopped_mode = mode
    instance.schedule(call.now, TRANSITIONS["stop"])
    sim.sandboxes.shut_down(instance.instance_id)
    return {}


@action("Ecs", "RebootInstance")
def reboot_instance(sim: Simulator, call: Call) -> dict[str, Any]:
    instance = live_instance(sim, call.params.text("InstanceId"))
    call.params.boolean("ForceStop")
    status = instance.status_at(call.now)
    if status != "Running":
        raise incorrect_instance_status(instance.instance_id, status, "Running")
    if call.params.boolean("DryRun"):
        raise dry_run_passed()
    instance.schedule(call.now, TRANSITIONS["reboot"])
    instance.started_at = call.now
    sim.sandboxes.boot(instance.instance_id)
    return {}


@action("Ecs", "DeleteInstance")
def delete_instance(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    instance = live_instance(sim, params.text("InstanceId"))
    force = params.boolean("Force")
    terminate = params.boolean("TerminateSubscription")
    status = instance.status_at(call.now)
    if status != "Stopped" and not force:
        raise incorrect_instance_status(instance.instance_id, status, "Stopped (or Force=true)")
    ends = expiry(instance, call.now)
    unexpired = instance.charge_type == "PrePaid" and ends is not None and ends > call.now
    if unexpired and not terminate:
        raise CloudError(
            "ChargeTypeViolation",
            "The operation is not permitted due to charge type of the instance: the "
            "subscription has not expired (set TerminateSubscription=true to refund it).",
            403,
        )
    if params.boolean("DryRun"):
        raise dry_run_passed()
    if instance.holds_stock:
        release_stock(sim.state, instance.zone_id, instance.instance_type)
        instance.holds_stock = False
    release_public_ip(sim.state, instance)
    release_private_ip(sim.state.vswitches.get(instance.vswitch_id), instance.private_ip)
    instance.deleted_at = call.now
    instance.schedule(call.now, TRANSITIONS["delete"])
    del sim.state.instances[instance.instance_id]
    sim.state.deleted[instance.instance_id] = instance
    sim.runner.forget_host(instance.instance_id)
    sim.sandboxes.remove(instance.instance_id)
    return {}


@action("Ecs", "ModifyInstanceSpec", client_token=True)
def modify_instance_spec(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    instance = live_instance(sim, params.text("InstanceId"))
    new_type = params.required("InstanceType")
    sim.catalog.instance_type(new_type)
    if instance.charge_type != "PostPaid":
        raise CloudError(
            "InvalidInstanceChargeType.ValueNotSupported",
            "ModifyInstanceSpec changes pay-as-you-go (PostPaid) instances only.",
            400,
        )
    status = instance.status_at(call.now)
    if status != "Stopped":
        raise incorrect_instance_status(instance.instance_id, status, "Stopped")
    if new_type == instance.instance_type:
        raise CloudError(
            "InvalidInstanceType.ValueNotSupported",
            f"The instance is already of type {new_type}.",
            400,
        )
    if new_type not in sim.catalog.zone(instance.zone_id).offered:
        raise CloudError(
            "InvalidInstanceType.ZoneNotSupported",
            f"The specified zone does not support this InstanceType: {new_type}.",
            403,
        )
    if sim.state.stock.get((instance.zone_id, new_type), 0) < 1:
        raise no_stock(instance.zone_id, new_type)
    if params.boolean("DryRun"):
        raise dry_run_passed()
    if instance.holds_stock:
        release_stock(sim.state, instance.zone_id, instance.instance_type)
        take_stock(sim.state, instance.zone_id, new_type)
    instance.instance_type = new_type
    return {}
