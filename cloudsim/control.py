"""The ``/_sim/`` control API: inspect state, move the clock, inject faults, set stock and load.

JSON in, JSON out, loopback clients only (403 otherwise). Bad input is a 400 with a message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cloudsim.clock import iso_seconds
from cloudsim.faults import FaultSpecError
from cloudsim.ram import PolicyError
from cloudsim.state import Instance

if TYPE_CHECKING:
    from cloudsim.simulator import Simulator


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def is_loopback(address: str) -> bool:
    return (
        address.startswith("127.")
        or address in ("::1", "localhost")
        or address.startswith("::ffff:127.")
    )


class Control:
    """Routes ``/_sim/...`` requests."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._routes: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {
            ("GET", "/_sim/state"): lambda _: self.state(),
            ("GET", "/_sim/clock"): lambda _: self.sim.clock.to_dict(),
            ("POST", "/_sim/clock"): self.set_clock,
            ("GET", "/_sim/faults"): lambda _: self.sim.faults.to_dict(),
            ("POST", "/_sim/faults"): self.set_faults,
            ("DELETE", "/_sim/faults"): self.clear_faults,
            ("GET", "/_sim/stock"): lambda _: self.stock(),
            ("POST", "/_sim/stock"): self.set_stock,
            ("POST", "/_sim/load"): self.load,
            ("GET", "/_sim/calls"): lambda _: self.sim.calls.snapshot(),
            ("POST", "/_sim/calls/reset"): self.reset_calls,
            ("POST", "/_sim/reset"): self.reset,
            ("POST", "/_sim/ram/users"): self.add_ram_user,
            ("GET", "/_sim/account"): lambda _: self.sim.account.to_dict(),
            ("POST", "/_sim/account"): self.set_account,
            ("DELETE", "/_sim/ram/users"): self.clear_ram_users,
        }

    def handle(self, method: str, path: str, remote: str, body: bytes) -> tuple[int, Any]:
        if not is_loopback(remote):
            return 403, {"error": "the /_sim/ API answers loopback clients only"}
        try:
            payload = json.loads(body) if body.strip() else {}
        except ValueError:
            return 400, {"error": "the body must be JSON"}
        if not isinstance(payload, dict):
            return 400, {"error": "the body must be a JSON object"}
        path = path.rstrip("/") or "/"
        try:
            if method == "GET" and path.startswith("/_sim/state/instances/"):
                return 200, self.instance(path.rsplit("/", 1)[1])
            route = self._routes.get((method, path))
            if route is None:
                known = any(p == path for _, p in self._routes)
                if known:
                    return 405, {"error": f"{method} is not allowed on {path}"}
                return 404, {"error": f"no such control endpoint: {path}"}
            return 200, route(payload)
        except ControlError as error:
            return error.status, {"error": error.message}
        except FaultSpecError as error:
            return 400, {"error": str(error)}

    # --- state -------------------------------------------------------------------------

    def _instance_summary(self, instance: Instance, now: float) -> dict[str, Any]:
        status = instance.status_at(now)
        return {
            "instance_id": instance.instance_id,
            "name": instance.name,
            "status": status,
            "stopped_mode": instance.stopped_mode if status == "Stopped" else "Not-applicable",
            "instance_type": instance.instance_type,
            "region_id": instance.region_id,
            "zone_id": instance.zone_id,
            "charge_type": instance.charge_type,
            "public_ip": instance.public_ip,
            "private_ip": instance.private_ip,
            "holds_stock": instance.holds_stock,
            "webui_url": self.sim.webui_url(instance.instance_id),
            "webui_tls_port": self.sim.webui_tls.known_port(instance.instance_id),
            "sandbox": str(self.sim.sandboxes.path(instance.instance_id)),
            "tags": dict(instance.tags),
        }

    def state(self) -> dict[str, Any]:
        sim = self.sim
        with sim.state.lock:
            now = sim.clock.now()
            return {
                "clock": sim.clock.to_dict(),
                "instances": [self._instance_summary(i, now) for i in sim.state.instances.values()],
                "vpcs": [
                    {
                        "vpc_id": v.vpc_id,
                        "region_id": v.region_id,
                        "cidr_block": v.cidr_block,
                        "name": v.name,
                    }
                    for v in sim.state.vpcs.values()
                ],
                "vswitches": [
                    {
                        "vswitch_id": s.vswitch_id,
                        "vpc_id": s.vpc_id,
                        "zone_id": s.zone_id,
                        "cidr_block": s.cidr_block,
                    }
                    for s in sim.state.vswitches.values()
                ],
                "security_groups": [
                    {
                        "security_group_id": g.security_group_id,
                        "vpc_id": g.vpc_id,
                        "rules": len(g.rules),
                    }
                    for g in sim.state.security_groups.values()
                ],
                "executions": [
                    {
                        "execution_id": e.execution_id,
                        "status": e.status,
                        "status_message": e.status_message,
                        "instances": [t["instanceId"] for t in e.targets],
                    }
                    for e in sim.state.executions.values()
                ],
            }

    def instance(self, instance_id: str) -> dict[str, Any]:
        sim = self.sim
        with sim.state.lock:
            instance = sim.state.any_instance(instance_id)
            if instance is None:
                raise ControlError(404, f"no such instance: {instance_id}")
            now = sim.clock.now()
            detail = self._instance_summary(instance, now)
            detail.update(
                {
                    "deleted": instance.deleted_at is not None,
                    "vpc_id": instance.vpc_id,
                    "vswitch_id": instance.vswitch_id,
                    "security_group_ids": list(instance.security_group_ids),
                    "bandwidth_out": instance.bandwidth_out,
                    "history": [
                        {"at": iso_seconds(t), "epoch_ms": int(t * 1000), "status": s}
                        for t, s in zip(instance.phase_times, instance.phase_statuses, strict=True)
                    ],
                    "activity": [
                        {
                            "start": iso_seconds(a),
                            "end": iso_seconds(b),
                            "gpu": "webui" if level < 0 else level,
                        }
                        for a, b, level in instance.activity
                    ],
                }
            )
        detail["unit"] = sim.sandboxes.unit_state(instance_id)
        return detail

    # --- clock, faults, stock, load ------------------------------------------------------

    def set_clock(self, payload: dict[str, Any]) -> dict[str, Any]:
        advance = payload.get("advance")
        speed = payload.get("speed")
        if advance is None and speed is None:
            raise ControlError(400, 'give "advance" (seconds) and/or "speed"')
        if advance is not None:
            if not _number(advance) or advance < 0:
                raise ControlError(400, '"advance" must be a number of seconds >= 0')
            self.sim.clock.advance(float(advance))
        if speed is not None:
            if not _number(speed) or not 0 < speed <= 100_000:
                raise ControlError(400, '"speed" must be a positive number')
            self.sim.clock.set_speed(float(speed))
        return self.sim.clock.to_dict()

    def set_faults(self, payload: dict[str, Any]) -> dict[str, Any]:
        if not payload:
            raise ControlError(400, 'give a fault rule, {"rules": [...]} or {"seed": n}')
        self.sim.faults.configure(payload)
        return self.sim.faults.to_dict()

    def clear_faults(self, _: dict[str, Any]) -> dict[str, Any]:
        self.sim.faults.clear()
        return self.sim.faults.to_dict()

    def stock(self) -> list[dict[str, Any]]:
        with self.sim.state.lock:
            return [
                {"zone_id": zone, "instance_type": kind, "available": available}
                for (zone, kind), available in sorted(self.sim.state.stock.items())
            ]

    def set_stock(self, payload: dict[str, Any]) -> dict[str, Any]:
        zone_id = payload.get("zone_id")
        instance_type = payload.get("instance_type")
        available = payload.get("available")
        zone = self.sim.catalog.zones.get(zone_id) if isinstance(zone_id, str) else None
        if zone is None:
            raise ControlError(400, f'"zone_id" must be a zone of the catalogue, not {zone_id!r}')
        if instance_type not in zone.offered:
            raise ControlError(
                400,
                f'"instance_type" must be a type offered in {zone_id}: {", ".join(zone.offered)}',
            )
        if isinstance(available, bool) or not isinstance(available, int) or available < 0:
            raise ControlError(400, '"available" must be an integer >= 0')
        with self.sim.state.lock:
            self.sim.state.stock[(zone_id, instance_type)] = available
            self.sim.state.touch()
        return {"zone_id": zone_id, "instance_type": instance_type, "available": available}

    def load(self, payload: dict[str, Any]) -> dict[str, Any]:
        instance_id = payload.get("instance_id")
        gpu = payload.get("gpu")
        seconds = payload.get("seconds")
        if not _number(gpu) or not 0 <= gpu <= 100:
            raise ControlError(400, '"gpu" must be a utilisation from 0 to 100')
        if not _number(seconds) or not seconds > 0:
            raise ControlError(400, '"seconds" must be a positive number of sim seconds')
        sim = self.sim
        with sim.state.lock:
            instance = (
                sim.state.instances.get(instance_id) if isinstance(instance_id, str) else None
            )
            if instance is None:
                raise ControlError(404, f"no such instance: {instance_id!r}")
            now = sim.clock.now()
            instance.add_activity(now, now + float(seconds), float(gpu))
            sim.state.touch()
        return {
            "instance_id": instance_id,
            "gpu": gpu,
            "from": iso_seconds(now),
            "until": iso_seconds(now + float(seconds)),
        }

    def set_account(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The account's pay-as-you-go vCPU quota and its available balance."""
        quota = payload.get("vcpu_quota")
        amount = payload.get("available_amount")
        if quota is not None and (
            isinstance(quota, bool) or not isinstance(quota, int) or quota < 0
        ):
            raise ControlError(400, '"vcpu_quota" must be an integer >= 0')
        if amount is not None and not _number(amount):
            raise ControlError(400, '"available_amount" must be a number')
        with self.sim.state.lock:
            if quota is not None:
                self.sim.account.vcpu_quota = quota
            if amount is not None:
                self.sim.account.available_amount = f"{amount:.2f}"
        return self.sim.account.to_dict()

    def reset_calls(self, _: dict[str, Any]) -> dict[str, Any]:
        self.sim.calls.reset()
        return {}

    def add_ram_user(self, payload: dict[str, Any]) -> dict[str, Any]:
        return _ram_user(self, payload)

    def clear_ram_users(self, _: dict[str, Any]) -> dict[str, Any]:
        self.sim.ram.clear()
        return {"ok": True}

    def reset(self, _: dict[str, Any]) -> dict[str, Any]:
        self.sim.reset()
        return {"reset": True}


def _ram_user(control: Control, payload: dict[str, Any]) -> dict[str, Any]:
    policies = payload.get("policies", [])
    if not isinstance(policies, list) or not all(isinstance(p, str) for p in policies):
        raise ControlError(400, "policies must be a list of system policy names")
    try:
        control.sim.ram.add_user(
            str(payload.get("access_key_id") or ""),
            str(payload.get("access_key_secret") or ""),
            policies,
        )
    except PolicyError as error:
        raise ControlError(400, str(error)) from None
    return {"access_key_id": payload["access_key_id"], "policies": policies}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
