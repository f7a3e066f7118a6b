"""Clears the failed sign-in count of a username or an address before its cool-off ends."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts import login_throttle


class Command(BaseCommand):
    help = "Unlocks sign-in for a username (--username) or an address (--address)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username")
        parser.add_argument("--address")

    def handle(self, *args: Any, username: str | None, address: str | None, **options: Any):
        if not username and not address:
            raise CommandError("Give --username, --address or both.")
        if username:
            login_throttle.clear_username(username=username)
        if address:
            login_throttle.clear_address(address=address)
        self.stdout.write("Unlocked.")
