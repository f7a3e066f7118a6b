"""Model fields of our own."""

from __future__ import annotations

from typing import Any

from django.db import models

from nestops.crypto import decrypt, encrypt


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code sees the plain value.

    Not searchable and never shown by the admin or the API: read it only where the secret is
    needed (a deploy step, an audited reveal).
    """

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
