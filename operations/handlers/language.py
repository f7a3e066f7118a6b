"""Set the WebUI's language on a running host: write its ``localization`` setting, restart it,
wait until it answers."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from operations.handlers.base import Handler, Next, Step, StepContext, Wait
from operations.handlers.common import language_arguments, run_script


def write_setting(ctx: StepContext) -> Next | Wait:
    return run_script(ctx, "language", "set_webui_language", language_arguments(ctx, restart=1))


def _record(ctx: StepContext) -> None:
    instance = ctx.instance
    instance.webui_language = ctx.params["language"]
    instance.save(update_fields=["webui_language", "updated_at"])


HANDLER = Handler(
    steps=(Step("set_language", _("Set the WebUI's language and restart it"), write_setting),),
    on_success=_record,
)
