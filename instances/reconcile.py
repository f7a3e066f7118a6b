"""Reconcile: bring the stable state of every instance in line with what the cloud reports.

One DescribeInstances per 100 hosts per region. Instances with an active lifecycle operation
are left alone (the operation owns their state), and every write is conditional on the row
not having changed since it was read, so reconcile never fights an operation that started
in between.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts.models import AuditAction, AuditEvent
from cloud import CloudError, ecs
from instances.models import ServiceInstance, Status
from instances.services import webui_endpoint

logger = logging.getLogger("nestops.reconcile")

# Cloud status -> our stable status; transitional cloud states are left to settle.
CLOUD_STATUS = {"Running": Status.RUNNING, "Stopped": Status.STOPPED}
RECONCILED = (Status.RUNNING, Status.STOPPED)


@dataclass
class ReconcileReport:
    checked: int = 0
    describe_calls: int = 0
    corrected: list[str] = field(default_factory=list)
    addresses_updated: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def reconcile_instances() -> ReconcileReport:
    # Only stable states are read: an operation that moves a host puts it in a transitional
    # state when it is accepted, so hosts being worked on are left alone.
    report = ReconcileReport()
    rows = (
        ServiceInstance.objects.filter(status__in=RECONCILED)
        .exclude(cloud_instance_id="")
        .select_related("team")
        .only(
            "id",
            "public_id",
            "team__id",
            "region",
            "cloud_instance_id",
            "status",
            "stopped_mode",
            "status_changed_at",
            "public_ip",
            "private_ip",
            "webui_endpoint",
            "running_since",
        )
    )
    by_region: dict[str, list[ServiceInstance]] = defaultdict(list)
    for instance in rows:
        by_region[instance.region].append(instance)
    for region, instances in by_region.items():
        ids = [i.cloud_instance_id for i in instances]
        try:
            found = ecs.describe_instances(region, ids)
        except CloudError as exc:
            report.errors[region] = f"{exc.code}: {exc.message}"
            logger.warning("reconcile of %s failed: %s", region, exc)
            continue
        report.describe_calls += -(-len(ids) // ecs.DESCRIBE_INSTANCES_MAX_IDS)
        report.checked += len(instances)
        for instance in instances:
            _reconcile_one(instance, found.get(instance.cloud_instance_id), report)
    return report


def _reconcile_one(
    instance: ServiceInstance, host: ecs.Instance | None, report: ReconcileReport
) -> None:
    if host is None:
        _correct(
            instance, Status.DELETED, "", "the ECS instance was released outside nestops", report
        )
        return
    wanted = CLOUD_STATUS.get(host.status)
    stopped_mode = host.stopped_mode if wanted == Status.STOPPED else ""
    if wanted is not None and (wanted != instance.status or stopped_mode != instance.stopped_mode):
        how = f"{host.status} ({host.stopped_mode})" if stopped_mode else host.status
        _correct(instance, wanted, stopped_mode, f"the cloud reports {how}", report, host)
        return
    if host.public_ip != instance.public_ip or host.private_ip != instance.private_ip:
        instance.public_ip = host.public_ip
        instance.private_ip = host.private_ip
        endpoint = webui_endpoint(instance)
        updated = ServiceInstance.objects.filter(
            pk=instance.pk, status=instance.status, status_changed_at=instance.status_changed_at
        ).update(public_ip=host.public_ip, private_ip=host.private_ip, webui_endpoint=endpoint)
        report.addresses_updated += updated


def _correct(
    instance: ServiceInstance,
    status: str,
    stopped_mode: str,
    why: str,
    report: ReconcileReport,
    host: ecs.Instance | None = None,
) -> None:
    from instances.lifecycle import change_status

    with transaction.atomic():
        # An operation accepted since the read changed the status (and its time): leave it be.
        locked = ServiceInstance.objects.select_for_update().get(pk=instance.pk)
        changed_meanwhile = (
            locked.status != instance.status
            or locked.status_changed_at != instance.status_changed_at
        )
        if changed_meanwhile:
            return
        before = {"status": locked.status, "stopped_mode": locked.stopped_mode}
        if host is not None:
            locked.public_ip = host.public_ip
            locked.private_ip = host.private_ip
            locked.webui_endpoint = webui_endpoint(locked)
        elif status == Status.DELETED:
            locked.public_ip = locked.private_ip = None
            locked.webui_endpoint = ""
        change_status(
            locked,
            status,
            reason=f"Corrected by reconcile: {why} ({timezone.now():%Y-%m-%d %H:%M} UTC).",
            stopped_mode=stopped_mode,
            extra_fields=("public_ip", "private_ip", "webui_endpoint"),
        )
        AuditEvent.objects.create(
            team=locked.team,
            action=AuditAction.INSTANCE_DRIFT,
            target=locked.public_id,
            details={
                "before": before,
                "after": {"status": status, "stopped_mode": stopped_mode},
                "why": why,
            },
        )
    report.corrected.append(instance.public_id)
    logger.info("reconcile corrected %s: %s", instance.public_id, why)
