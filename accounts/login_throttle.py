"""Failed sign-ins, counted per username across addresses and per address across usernames.

A username with too many failures is locked whatever address the next attempt comes from
(even with the right password), and an address with too many failures is locked whatever
username it tries next (password spraying). Both answer with the same message, so a lockout
says nothing about which counter tripped or whether the username exists. The counts live in
the Django cache, shared by the processes (``NESTOPS_CACHE_URL`` for Redis; a file cache under
``var/`` otherwise). A success clears its username's count, never the address's: one account
the attacker owns must not reset the spraying count.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

USERNAME = "username"
ADDRESS = "address"


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode("utf-8")).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def _limits() -> dict[str, int]:
    return {
        USERNAME: settings.NESTOPS_LOGIN_FAILURE_LIMIT,
        ADDRESS: settings.NESTOPS_LOGIN_ADDRESS_FAILURE_LIMIT,
    }


def _count(kind: str, value: str | None) -> int:
    if not value:
        return 0
    entry = cache.get(_key(kind, value))
    if entry is None or entry[1] <= time.time():
        return 0
    return int(entry[0])


def _bump(kind: str, value: str | None) -> None:
    """One more failure in the window opened by the first one; the failure that reaches the
    limit (and any during the lockout) makes the lockout last a full cool-off from then.

    A read and a write, not atomic: a burst of concurrent failures may count fewer than it is,
    as DRF's throttles do; each attempt still costs a guess and the other counter still runs.
    """
    if not value:
        return
    now = time.time()
    key = _key(kind, value)
    entry = cache.get(key)
    if entry is None or entry[1] <= now:
        entry = (0, now + settings.NESTOPS_LOGIN_COOLOFF_SECONDS)
    count, until = int(entry[0]) + 1, float(entry[1])
    if count >= _limits()[kind]:
        until = max(until, now + settings.NESTOPS_LOGIN_COOLOFF_SECONDS)
    cache.set(key, (count, until), timeout=max(1, int(until - now) + 1))


def request_address(request: HttpRequest | None) -> str | None:
    """REMOTE_ADDR, or behind NESTOPS_PROXY_COUNT proxies the X-Forwarded-For entry the first
    of them added (the entries before it are whatever the client chose to send), as DRF's
    throttles read it."""
    if request is None:
        return None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    proxies = settings.NESTOPS_PROXY_COUNT
    if proxies and forwarded:
        entries = forwarded.split(",")
        return entries[-min(proxies, len(entries))].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def is_locked(*, username: str | None, address: str | None) -> bool:
    limits = _limits()
    return _count(USERNAME, username) >= limits[USERNAME] or (
        _count(ADDRESS, address) >= limits[ADDRESS]
    )


def record_failure(*, username: str | None, address: str | None) -> None:
    _bump(USERNAME, username)
    _bump(ADDRESS, address)


def clear_username(*, username: str) -> None:
    """A success, or an administrator unlocking the account."""
    cache.delete(_key(USERNAME, username))


def clear_address(*, address: str) -> None:
    cache.delete(_key(ADDRESS, address))


class LoginThrottleBackend:
    """First of the authentication backends: refuses every attempt while locked, so the right
    password does not get in during a lockout (login form and admin alike). It has no
    ``get_user`` on purpose: it never signs anyone in, so sessions never name it."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, **kwargs: Any
    ) -> None:
        if is_locked(username=username, address=request_address(request)):
            raise PermissionDenied
        return None


def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any):
    record_failure(username=credentials.get("username"), address=request_address(request))


def on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    clear_username(username=user.get_username())
