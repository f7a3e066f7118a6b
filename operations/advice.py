"""A sentence of advice for the errors operators meet most, keyed by the cloud's code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# Matched by prefix, first match wins.
ADVICE = (
    (
        "OperationDenied.NoStock",
        _(
            "The zone has no capacity for this GPU type right now. Wait and try again, resize "
            "the host to a type that is in stock, or deploy a new host in another zone."
        ),
    ),
    (
        "QuotaExceed",
        _(
            "Your Alibaba Cloud account reached a quota. Release hosts you no longer need or "
            "ask for a higher quota in the Quota Center, then try again."
        ),
    ),
    (
        "InvalidAccountStatus.NotEnoughBalance",
        _("The account balance is too low for this purchase. Top up the account, then retry."),
    ),
    (
        "Account.Arrearage",
        _("The account has an overdue payment. Settle it in the billing center, then retry."),
    ),
    (
        "Forbidden",
        _(
            "The credentials nestops uses lack a permission. Grant the RAM policies listed in "
            "the README to the user or role, then retry."
        ),
    ),
    (
        "NoPermission",
        _(
            "The credentials nestops uses lack a permission. Grant the RAM policies listed in "
            "the README to the user or role, then retry."
        ),
    ),
    (
        "InvalidAccessKeyId",
        _("The access key nestops uses is unknown or disabled. Check its credentials."),
    ),
    (
        "SignatureDoesNotMatch",
        _("The access key secret nestops uses is wrong. Check its credentials."),
    ),
    (
        "Throttling",
        _(
            "Alibaba Cloud throttled the requests and nestops kept retrying until the deadline. "
            "Try again in a few minutes."
        ),
    ),
    (
        "DeadlineExceeded",
        _(
            "The cloud did not reach the expected state in time. Look at the host in the "
            "console; nestops corrects its status when the host settles."
        ),
    ),
    (
        "WebUINotReady",
        _(
            "The host runs but its WebUI did not answer. Check that the control plane may reach "
            "the WebUI port, then restart the host."
        ),
    ),
    (
        "ChargeTypeViolation",
        _("This subscription has not expired. Delete it again and confirm that it ends now."),
    ),
)


def advice_for(code: str) -> str:
    for prefix, text in ADVICE:
        if code.startswith(prefix):
            return str(text)
    return ""
