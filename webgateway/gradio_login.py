"""Signing the gateway in to a WebUI's Gradio login (``--gradio-auth``), so users never see
the WebUI's own login form nor need its password.

Gradio protects its pages with a login form (``POST /login``) and a session cookie, not with
HTTP Basic. The gateway signs in with the host's credentials once per upstream, keeps the
cookies Gradio set, and adds them to every request it forwards there. A WebUI without Gradio
auth answers ``/login`` with an error: nothing is added then. Cookies are kept ten minutes, and
dropped at once when the WebUI refuses a request (it restarted and forgot its sessions).
"""

from __future__ import annotations

import base64
import binascii
import time

import httpx

KEEP_SECONDS = 600.0


class GradioLogins:
    def __init__(self) -> None:
        self._cookies: dict[str, tuple[float, str]] = {}

    def forget(self, upstream: str) -> None:
        self._cookies.pop(upstream, None)

    async def cookie(self, client: httpx.AsyncClient, upstream: str, authorization: str) -> str:
        """The Cookie header value that signs in to Gradio at ``upstream`` ("" if none)."""
        kept = self._cookies.get(upstream)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        try:
            user, _sep, password = (
                base64.b64decode(authorization.partition(" ")[2]).decode().partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            return ""
        found = ""
        try:
            answer = await client.post(
                upstream + "/login",
                data={"username": user, "password": password},
                headers={"authorization": authorization},
            )
            if answer.status_code == 200:
                found = "; ".join(f"{c.name}={c.value}" for c in answer.cookies.jar)
        except httpx.HTTPError:
            return ""  # unreachable now: try again next time
        if len(self._cookies) > 10_000:
            self._cookies.clear()
        self._cookies[upstream] = (time.monotonic() + KEEP_SECONDS, found)
        return found
