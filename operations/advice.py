"""What went wrong, said once in the reader's language: a short headline and the advice that
fits, from the cloud's error code or from what a host script printed; the raw message stays
below, folded away."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.template.defaultfilters import filesizeformat
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


@dataclass(frozen=True)
class Explanation:
    """``help`` names the settings page that fixes it: ``mirror``, ``tokens`` or ``disk``."""

    headline: str
    advice: str
    details: str
    help: str = ""


GITHUB = ("github.com", "raw.githubusercontent.com", "codeload.github.com")
HUGGINGFACE = ("huggingface.co", "hf.co", "cdn-lfs.huggingface.co", "cdn-lfs-us-1.huggingface.co")
# curl's and git's words, and the outbound address policy's on the host.
UNRESOLVED = re.compile(r"Could not resolve host: ([^\s:]+)|([^\s:']+) does not resolve")
UNREACHABLE = re.compile(r"Failed to connect to ([^\s:]+)|unable to access '[a-z]+://([^/']+)")
HTTP_STATUS = re.compile(r"(?:returned error|HTTP)[: ]+(\d{3})")
NO_SPACE = re.compile(r"(\d+) bytes free, (\d+) needed")


def _host_problem(host: str, resolved: bool) -> tuple[str, str, str]:
    if host in GITHUB:
        return (
            str(_("The host cannot reach GitHub")),
            str(
                _(
                    "Hosts in mainland China often cannot reach github.com. Set the team's "
                    "GitHub mirror in the download settings, then retry."
                )
            ),
            "mirror",
        )
    if host in HUGGINGFACE or host.endswith(".huggingface.co"):
        return (
            str(_("The host cannot reach Hugging Face")),
            str(
                _(
                    "Hosts in mainland China often cannot reach huggingface.co. Set the team's "
                    "Hugging Face endpoint (a mirror such as hf-mirror.com) in the download "
                    "settings, or download from ModelScope, then retry."
                )
            ),
            "mirror",
        )
    if not resolved:
        headline = _("The host could not look up %(host)s") % {"host": host}
        advice = _(
            "Check the address. A site the host's network blocks can be reached through a "
            "mirror: set the mirrors in the team's download settings, or use the mirror's URL."
        )
    else:
        headline = _("The host could not connect to %(host)s") % {"host": host}
        advice = _(
            "The site did not answer the host. Try again later, or use a mirror of the site "
            "(the team's download settings)."
        )
    return str(headline), str(advice), "mirror"


def _from_output(text: str) -> tuple[str, str, str] | None:
    """Headline, advice and help page for what a host script printed, if it is a known case."""
    if found := UNRESOLVED.search(text):
        return _host_problem(found.group(1) or found.group(2), resolved=False)
    if found := UNREACHABLE.search(text):
        return _host_problem(found.group(1) or found.group(2), resolved=True)
    if found := NO_SPACE.search(text):
        free, need = (filesizeformat(int(n)) for n in found.groups())
        return (
            str(_("Not enough free space on the host")),
            str(
                _(
                    "%(free)s free, %(need)s needed. Delete model files you no longer need "
                    "(the Models tab orders them by size), then retry."
                )
                % {"free": free, "need": need}
            ),
            "disk",
        )
    if (found := HTTP_STATUS.search(text)) and found.group(1) in ("401", "403"):
        return (
            str(_("The site refused the download (HTTP %(code)s)") % {"code": found.group(1)}),
            str(
                _(
                    "The file needs an account. Set the site's token on the team's model site "
                    "tokens page, then retry."
                )
            ),
            "tokens",
        )
    if found and found.group(1) == "404":
        return (
            str(_("The site has no file at this address (HTTP 404)")),
            str(_("Check the URL: copy it again from the site's download button.")),
            "",
        )
    for marker, headline, advice in SCRIPT_REFUSALS:
        if marker in text:
            return str(headline), str(advice), ""
    return None


SCRIPT_REFUSALS = (
    (
        "The SHA-256 of the file is",
        _("The downloaded file is not the expected one"),
        _("Its SHA-256 differs from the one given, and it was removed. Check the hash and URL."),
    ),
    (
        "larger than the limit",
        _("The file is larger than the download limit"),
        _("The limit is NESTOPS_DOWNLOAD_MAX_BYTES; an administrator may raise it."),
    ),
    (
        "already exists",
        _("The file is already on the host"),
        _("Delete it first, or ask to overwrite it."),
    ),
)


def explain(operation: Any) -> Explanation:
    """The operation's failure, said once: a headline and advice in the active language."""
    code = operation.error_code or ""
    details = f"{code}: {operation.error_message}" if operation.error_message else code
    known = _from_output(operation.error_message or "")
    if known is not None:
        headline, advice, help_page = known
        return Explanation(headline, advice, details, help_page)
    if code == "Cancelled":
        return Explanation(str(_("Cancelled")), "", details)
    headline = _("%(kind)s failed") % {"kind": operation.get_kind_display()}
    return Explanation(str(headline), advice_for(code), details)
