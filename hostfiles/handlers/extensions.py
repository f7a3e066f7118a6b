"""WebUI extensions on a running host: install, update and remove (git checkouts)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from hostfiles import inventory
from hostfiles import rules as file_rules
from hostfiles.services import extension_params, github_mirror
from operations.handlers.base import (
    Handler,
    Next,
    Step,
    StepContext,
    StepFailed,
    StepFunction,
    Wait,
)
from operations.handlers.common import (
    CANCEL_SCRIPTS,
    run_script,
    script_result,
    seconds_left,
    webui_arguments,
)
from operations.services import InvalidRequest


def _checked(ctx: StepContext) -> dict[str, str]:
    """The stored parameters through the request's rules again (handler layer); the fetch
    URL is derived anew from the repository URL and today's mirror setting."""
    params = ctx.params
    try:
        return extension_params(
            url=params["url"],
            name=params["name"],
            ref=params["ref"],
            mirror=github_mirror(ctx.instance.team_id),
        )
    except InvalidRequest as exc:
        raise StepFailed("InvalidParameter", exc.message) from None


def _arguments(ctx: StepContext) -> dict[str, str | int]:
    return {
        **webui_arguments(ctx),
        "RESTART": 1 if ctx.params.get("restart_webui", True) else 0,
        "ALLOW_PRIVATE": 1 if settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS else 0,
        "TIMEOUT": seconds_left(ctx),
    }


def _fetch(mode: str) -> StepFunction:
    def fetch(ctx: StepContext) -> Next | Wait:
        checked = _checked(ctx)
        outcome = run_script(
            ctx,
            mode,
            "install_extension",
            {
                "MODE": mode,
                "NAME": checked["name"],
                "URL": checked["fetch_url"],
                "REF": checked["ref"],
                **_arguments(ctx),
            },
        )
        if isinstance(outcome, Next):
            commit = script_result(ctx, mode).get("commit")
            if not (isinstance(commit, str) and len(commit) == 40):
                raise StepFailed("ScriptResultMissing", "The host reported no commit.")
        return outcome

    return fetch


def _recorded(mode: str) -> Callable[[StepContext], None]:
    def record(ctx: StepContext) -> None:
        params = ctx.params
        inventory.record_extension(
            ctx.instance,
            name=params["name"],
            remote_url=params["url"],
            ref=params["ref"],
            commit=ctx.state[f"result:{mode}"]["commit"],
        )

    return record


INSTALL = Handler(
    steps=(Step("install", _("Fetch the extension on the host"), _fetch("install")),),
    rollback=(CANCEL_SCRIPTS,),
    on_success=_recorded("install"),
)

UPDATE = Handler(
    steps=(Step("update", _("Update the extension on the host"), _fetch("update")),),
    rollback=(CANCEL_SCRIPTS,),
    on_success=_recorded("update"),
)


def remove(ctx: StepContext) -> Next | Wait:
    try:
        name = file_rules.validate_extension_name(ctx.params["name"])
    except ValidationError as exc:
        raise StepFailed("InvalidParameter", f"name: {exc.messages[0]}") from None
    return run_script(ctx, "remove", "remove_extension", {"NAME": name, **_arguments(ctx)})


REMOVE = Handler(
    steps=(Step("remove", _("Remove the extension from the host"), remove),),
    rollback=(CANCEL_SCRIPTS,),
    on_success=lambda ctx: inventory.forget_extension(ctx.instance, ctx.params["name"]),
)
