"""Creates the first administrator for the embedded run, with a generated password."""

from __future__ import annotations

import secrets
import string
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from accounts.models import Membership, Role, Team

ALPHABET = string.ascii_letters + string.digits


class Command(BaseCommand):
    help = (
        "Creates the user 'admin' with a generated password, printed once and kept in "
        "var/admin-password, as admin of a team 'Default'. Does nothing when the user exists."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        users = get_user_model()
        password_file = settings.VAR_DIR / "admin-password"
        if users.objects.filter(username=username).exists():
            where = f" (password kept in {password_file})" if password_file.exists() else ""
            self.stdout.write(f"Administrator '{username}' exists{where}.")
            return
        password = "".join(secrets.choice(ALPHABET) for _ in range(20))
        admin = users.objects.create_superuser(username=username, email="", password=password)
        # A first team, so that the administrator can deploy at once.
        team, _ = Team.objects.get_or_create(slug="default", defaults={"name": "Default"})
        Membership.objects.get_or_create(user=admin, team=team, defaults={"role": Role.ADMIN})
        password_file.write_text(password + "\n", encoding="utf-8")
        password_file.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(f"Created administrator '{username}' with password: {password}")
        )
        self.stdout.write(f"The password is kept in {password_file} (readable by you only).")
