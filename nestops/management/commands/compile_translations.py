"""Compiles locale/*/LC_MESSAGES/django.po into .mo files without GNU gettext (Babel)."""

from __future__ import annotations

from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compiles the project's translation catalogs (.po) into .mo files."

    def handle(self, *args: Any, **options: Any) -> None:
        compiled = 0
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                with po_path.open("rb") as po_file:
                    catalog = read_po(po_file)
                errors = [
                    (message.id, error) for message, errs in catalog.check() for error in errs
                ]
                if errors:
                    raise CommandError(f"{po_path}: {errors[0][1]} in {errors[0][0]!r}")
                with mo_path.open("wb") as mo_file:
                    write_mo(mo_file, catalog)
                # Part of the code, not data: readable by the account that runs it, even when
                # that is not the one that built it (processes here run with umask 077).
                mo_path.chmod(0o644)
                compiled += 1
        self.stdout.write(f"Compiled {compiled} translation catalog(s).")
