"""ECS RunInstances: validate every parameter as the cloud does (``ecs_run_validation``), then
create 1-100 hosts.

A DryRun passes the whole validation, stock included, and answers ``DryRunOperation``.
ClientToken idempotency is handled by the API layer (same token and parameters: same answer,
same instance ids).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from cloudsim import ids, pricing
from cloudsim.api import Call, action
from cloudsim.ecs import (
    TRANSITIONS,
    add_period,
    allocate_private_ip,
    assign_public_ip,
    take_stock,
)
from cloudsim.ecs_run_validation import RunRequest, validate_run
from cloudsim.errors import dry_run_passed
from cloudsim.images import sandbox_source
from cloudsim.state import Instance

if TYPE_CHECKING:
    from cloudsim.simulator import Simulator


@action("Ecs", "RunInstances", client_token=True)
def run_instances(sim: Simulator, call: Call) -> dict[str, Any]:
    request = validate_run(sim, call)
    if call.params.boolean("DryRun"):
        raise dry_run_passed()
    instance_ids = launch(sim, request, now=call.now)
    return {
        "InstanceIdSets": {"InstanceIdSet": instance_ids},
        "OrderId": ids.order_id(),
        "TradePrice": _trade_price(sim, request),
    }


def launch(sim: Simulator, request: RunRequest, *, now: datetime) -> list[str]:
    """Takes the stock and creates the hosts (booting their sandboxes); their ids."""
    state = sim.state
    region = request.region
    take_stock(state, request.zone.zone_id, request.instance_type.instance_type, request.amount)
    instance_ids = []
    for _ in range(request.amount):
        instance_id = ids.resource_id("i", region.id_prefix, state.instances)
        while instance_id in state.deleted:
            instance_id = ids.resource_id("i", region.id_prefix, state.instances)
        instance = _new_instance(sim, request, instance_id, now=now)
        instance.schedule(now, TRANSITIONS["create"])
        assign_public_ip(state, instance)
        state.instances[instance_id] = instance
        sim.sandboxes.create(instance_id, **sandbox_source(sim, request.image_id))
        sim.sandboxes.boot(instance_id)
        instance_ids.append(instance_id)
    return instance_ids


def _new_instance(
    sim: Simulator, request: RunRequest, instance_id: str, *, now: datetime
) -> Instance:
    r = request
    return Instance(
        instance_id=instance_id,
        seq=sim.state.next_seq(),
        region_id=r.region.region_id,
        zone_id=r.zone.zone_id,
        instance_type=r.instance_type.instance_type,
        image_id=r.image_id,
        name=r.name or instance_id,
        host_name=r.host_name or f"iZ{instance_id[2:]}Z",
        description=r.description,
        vpc_id=r.vswitch.vpc_id,
        vswitch_id=r.vswitch.vswitch_id,
        security_group_ids=list(r.group_ids),
        private_ip=allocate_private_ip(r.vswitch),
        charge_type=r.charge_type,
        internet_charge_type=r.internet_charge_type,
        bandwidth_out=r.bandwidth,
        disk_category=r.disk_category,
        disk_size=r.disk_size,
        created_at=now,
        serial=ids.serial_number(),
        mac=ids.mac_address(),
        eni_id=ids.resource_id("eni", r.region.id_prefix, ()),
        tags=r.tags,
        period=r.period,
        period_unit=r.period_unit,
        auto_renew=r.auto_renew,
        auto_renew_period=r.auto_renew_period,
        expired_at=add_period(now, r.period, r.period_unit) if r.period else None,
        user_data=r.user_data,
        started_at=now,
    )


def _trade_price(sim: Simulator, r: RunRequest) -> float:
    unit, count = pricing.subscription_unit(r.period, r.period_unit) if r.period else ("Hour", 1)
    quote = pricing.quote(
        sim.catalog,
        instance_type=r.instance_type.instance_type,
        price_unit=unit,
        period=count,
        disk_category=r.disk_category,
        disk_size=r.disk_size,
        internet_charge_type=r.internet_charge_type,
        bandwidth_mbps=r.bandwidth,
        amount=r.amount,
    )
    return quote.trade
