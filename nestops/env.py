"""Typed readers for settings that come from the environment.

Every reader names the variable and the expected form when a value is nonsense, so a typo in a
deployment fails at start-up with a message an operator can act on instead of a confusing error
later. Secrets can also be given as ``NAME_FILE`` (a path whose content is the value), which is
how Docker and Kubernetes secrets are mounted.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_RATE = re.compile(r"^[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)$")
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


class Env:
    """Reads typed values from a mapping (``os.environ`` by default)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def _raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def _fail(self, name: str, value: str, expected: str) -> ImproperlyConfigured:
        return ImproperlyConfigured(f"{name}={value!r} is not valid: expected {expected}.")

    def str(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self._raw(name)
        if value is None:
            if required:
                raise ImproperlyConfigured(f"{name} must be set.")
            return default
        return value

    def bool(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise self._fail(name, value, "one of true/false, yes/no, on/off, 1/0")

    def int(
        self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise self._fail(name, value, "a whole number") from None
        self._check_range(name, value, number, minimum, maximum)
        return number

    def float(
        self,
        name: str,
        default: float,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise self._fail(name, value, "a number") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise self._fail(name, value, "a finite number")
        self._check_range(name, value, number, minimum, maximum)
        return number

    def _check_range(
        self,
        name: str,
        value: str,
        number: float,
        minimum: float | None,
        maximum: float | None,
    ) -> None:
        if minimum is not None and number < minimum:
            raise self._fail(name, value, f"a number of at least {minimum}")
        if maximum is not None and number > maximum:
            raise self._fail(name, value, f"a number of at most {maximum}")

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self._raw(name)
        if value is None:
            return default
        if value not in choices:
            raise self._fail(name, value, "one of " + ", ".join(choices))
        return value

    def list(self, name: str, default: list[str] | None = None) -> list[str]:
        value = self._raw(name)
        if value is None:
            return list(default or [])
        return [item.strip() for item in value.split(",") if item.strip()]

    def rate(self, name: str, default: str) -> str:
        """A request rate as DRF reads it: ``60/min``, ``10/s``, ``1000/hour``, ``5000/day``."""
        value = self._raw(name)
        if value is None:
            return default
        if not _RATE.match(value):
            raise self._fail(name, value, "a number of requests per s, min, hour or day (60/min)")
        return value

    def size(self, name: str, default: int, *, minimum: int = 1) -> int:
        """A size in bytes: ``1048576``, ``500M``, ``20G`` or ``1.5TiB`` (powers of 1024)."""
        value = self._raw(name)
        if value is None:
            return default
        match = _SIZE.match(value)
        if match is None:
            raise self._fail(name, value, "a size such as 500M, 20G or a number of bytes")
        number = int(float(match.group(1)) * _SIZE_UNITS[match.group(2).upper()])
        if number < minimum:
            raise self._fail(name, value, f"a size of at least {minimum} bytes")
        return number

    def host_names(self, name: str, default: list[str]) -> list[str]:
        """Host names such as ``github.com,gitee.com`` (lower-cased, no scheme, no port)."""
        names = [item.lower() for item in self.list(name, default)]
        for item in names:
            if not _HOST_NAME.match(item):
                raise self._fail(
                    name, item, "host names such as github.com, without scheme or path"
                )
        return names

    def url_prefix(self, name: str, default: str = "") -> str:
        """An http(s) URL that other URLs are appended to, so it ends with ``/``."""
        value = self._raw(name)
        if value is None:
            return default
        parts = urlsplit(value)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.username
            or parts.password
            or parts.query
            or parts.fragment
            or not value.endswith("/")
        ):
            raise self._fail(
                name,
                value,
                "an http(s) URL without credentials ending with /, e.g. https://mirror.example/",
            )
        return value

    def url_base(self, name: str, default: str = "") -> str:
        """An http(s) URL that paths are joined to (a site's endpoint such as
        ``https://hf-mirror.com``); returned without a trailing ``/``."""
        value = self._raw(name)
        if value is None:
            return default
        parts = urlsplit(value)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.username
            or parts.password
            or parts.query
            or parts.fragment
        ):
            raise self._fail(
                name,
                value,
                "an http(s) URL without credentials, query or fragment, e.g. https://hf-mirror.com",
            )
        return value.rstrip("/")

    def json(self, name: str, default: Any) -> Any:
        value = self._raw(name)
        if value is None:
            return default
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise self._fail(name, value, f"valid JSON ({exc.msg})") from None

    def secret(self, name: str, default: str | None = None) -> str | None:
        """Reads ``NAME`` or the file named by ``NAME_FILE``; setting both is an error."""
        direct = self._raw(name)
        path = self._raw(f"{name}_FILE")
        if direct is not None and path is not None:
            raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both.")
        if path is None:
            return default if direct is None else direct
        try:
            content = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE={path!r} cannot be read: {exc.strerror or exc}."
            ) from None
        if not content:
            raise ImproperlyConfigured(f"{name}_FILE={path!r} is empty.")
        return content

    def database(self, name: str, default: str) -> dict[str, Any]:
        """Parses a database URL (``sqlite:///path`` or ``postgres://user:pw@host:port/db``)."""
        value = self._raw(name) or default
        return parse_database_url(value, name=name)


def parse_database_url(value: str, *, name: str = "DATABASE_URL") -> dict[str, Any]:
    expected = "sqlite:///path/to/db.sqlite3 or postgres://user:password@host:5432/name"
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute.db, as dj-database-url reads them.
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise ImproperlyConfigured(f"{name}={value!r} is not valid: expected {expected}.")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
    if scheme in {"postgres", "postgresql", "pgsql"}:
        database = unquote(parts.path.lstrip("/"))
        if not database:
            raise ImproperlyConfigured(
                f"{name} is not valid: the PostgreSQL URL names no database (expected {expected})."
            )
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(f"{name} is not valid: the port is not a number.") from None
        options = dict(parse_qsl(parts.query))
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": database,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": unquote(parts.hostname or ""),
            "PORT": str(port or ""),
            "OPTIONS": options,
        }
    shown = f"{parts.scheme}://…" if parts.scheme else repr(value)
    raise ImproperlyConfigured(f"{name}={shown} is not valid: expected {expected}.")
