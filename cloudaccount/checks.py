"""The cloud account's check: which credentials nestops uses and whether they may call what it
needs, remembered for a while so that every deploy can refuse early instead of failing halfway.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from cloud import preflight
from nestops.errors import Refused

CACHE_SECONDS = 600


def _key(region: str) -> str:
    return f"cloudaccount:check:{settings.NESTOPS_CLOUD}:{region}"


def check(*, region: str, fresh: bool = False) -> preflight.AccountCheck:
    """The account check for ``region``; a cached one unless ``fresh``."""
    if not fresh:
        found = cache.get(_key(region))
        if isinstance(found, preflight.AccountCheck):
            return found
    result = preflight.check_account(region)
    cache.set(_key(region), result, CACHE_SECONDS)
    return result


def advice(result: preflight.AccountCheck) -> str:
    """What to grant, policy by policy, with the actions that were denied."""
    if not result.credentials_valid:
        code = result.missing[-1].code if result.missing else ""
        return _(
            "The cloud refuses the credentials themselves (%(code)s): check the access key "
            "of %(source)s."
        ) % {"code": code, "source": result.credential_source}
    lines = [
        _("Grant %(policy)s to the RAM user or role (denied: %(actions)s).")
        % {"policy": policy, "actions": ", ".join(actions)}
        for policy, actions in result.missing_policies.items()
    ]
    return " ".join(lines)


def require_permissions(*, region: str) -> None:
    """Refuses a deploy in ``region`` when the account check found missing permissions."""
    if not settings.NESTOPS_DEPLOY_CHECKS_ACCOUNT:
        return
    result = check(region=region)
    if result.ok:
        return
    raise Refused(
        "cloud_permissions_missing",
        _("This cloud account may not deploy yet. %(advice)s") % {"advice": advice(result)},
        {"missing": result.missing_policies, "credential_source": result.credential_source},
    )
