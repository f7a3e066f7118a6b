"""``manage.py check_cloud [--region R]``: the account check, printed; exit 1 if it fails."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cloud import CloudError, preflight
from cloudaccount import checks


class Command(BaseCommand):
    help = "Checks the cloud credentials: their source and every action nestops needs."

    def add_arguments(self, parser: CommandParser) -> None:
        default = settings.NESTOPS_REGIONS[0] if settings.NESTOPS_REGIONS else "cn-hangzhou"
        parser.add_argument("--region", default=default)

    def handle(self, *args: Any, region: str, **options: Any) -> None:
        try:
            result = checks.check(region=region, fresh=True)
        except CloudError as exc:
            raise CommandError(f"the cloud could not be reached: {exc}") from None
        self.stdout.write(f"credentials: {result.credential_source}")
        self.stdout.write(f"region: {result.region}")
        for probe in result.results:
            mark = "ok  " if probe.allowed else "DENY"
            note = f" ({probe.code})" if probe.code and not probe.allowed else ""
            self.stdout.write(f"  {mark} {probe.product}:{probe.action}{note}")
        if result.quota is not None:
            quota = result.quota
            self.stdout.write(
                f"pay-as-you-go vCPU quota: {quota.used_vcpus} of {quota.max_vcpus} used, "
                f"{quota.free_vcpus} free"
            )
        if result.smallest is not None:
            small = result.smallest
            price = f", {small.hourly} {small.currency}/hour" if small.hourly is not None else ""
            self.stdout.write(
                f"smallest GPU type: {small.instance_type} ({small.vcpus} vCPUs{price})"
            )
        if result.balance is not None:
            balance = result.balance
            self.stdout.write(
                f"available balance: {balance.available} {balance.currency} "
                f"(credit {balance.credit})"
            )
        for warning in checks.warnings(result):
            self.stdout.write(self.style.WARNING(f"warning: {warning}"))
        optional = {
            policy: actions
            for policy, actions in result.missing_policies.items()
            if policy in preflight.OPTIONAL_POLICIES
        }
        for policy, actions in optional.items():
            self.stdout.write(
                self.style.WARNING(
                    f"warning: grant {policy} to read the balance (denied: {', '.join(actions)})"
                )
            )
        if result.ok:
            self.stdout.write(self.style.SUCCESS("every action nestops needs is allowed"))
            return
        for policy, actions in result.missing_policies.items():
            self.stdout.write(f"missing {policy}: {', '.join(actions)}")
        raise CommandError(checks.advice(result))
