"""Model files on a running host: download, delete, set a preview, refresh the inventory.

Every handler checks its parameters once more before anything reaches the host, runs a
script from ``operations/scripts/`` through OOS, and records what the script reported when the
operation succeeds. A cancel (or a deadline) stops the script on the host; a cancelled
download also removes its partial file.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cloud import ecs
from hostfiles import inventory, previews, progress
from hostfiles import rules as file_rules
from hostfiles.models import DownloadSecret, SourceToken
from hostfiles.selectors import download_defaults
from hostfiles.services import download_params, enqueue_thumbnail_reading
from nestops.url_credentials import redact_url
from operations.handlers.base import Handler, Next, Step, StepContext, StepFailed, Wait
from operations.handlers.common import (
    APPEAR_GRACE_SECONDS,
    CANCEL_SCRIPTS,
    poll,
    run_script,
    script_result,
    seconds_left,
    webui_arguments,
)
from operations.services import InvalidRequest

# Free space a download leaves on the disk besides the file itself.
RESERVE_BYTES = 1024**3
# Where SendFile drops a preview before place_preview.sh checks and moves it.
STAGING_DIR = "/root/.nestops/incoming"
# Characters of inventory per script run: OOS keeps the last 24 KB of a script's output.
INVENTORY_BUDGET = 16000
MAX_INVENTORY_PAGES = 40


def _host_arguments(ctx: StepContext) -> dict[str, str | int]:
    return {**webui_arguments(ctx), "TIMEOUT": seconds_left(ctx)}


def _checked_path(ctx: StepContext) -> str:
    try:
        return file_rules.validate_model_path(ctx.params["path"])
    except ValidationError as exc:
        raise StepFailed("InvalidParameter", f"path: {exc.messages[0]}") from None


# --- download --------------------------------------------------------------------------------


def check_download(ctx: StepContext) -> Next:
    """The stored parameters go through the request's rules again (handler layer)."""
    params = ctx.params
    try:
        checked = download_params(
            url=params["url"],
            kind=params["kind"],
            filename=params["filename"],
            directory=params.get("directory", ""),
            sha256=params.get("sha256", ""),
        )
    except InvalidRequest as exc:
        raise StepFailed("InvalidParameter", exc.message) from None
    if checked["path"] != params["path"]:
        raise StepFailed("InvalidParameter", f"path: {params['path']} is not where it belongs.")
    _connections(ctx)
    full_url = _full_url(ctx)
    if full_url != params["url"]:
        try:
            file_rules.validate_download_url(full_url)
        except ValidationError as exc:
            raise StepFailed("InvalidParameter", f"url: {exc.messages[0]}") from None
        if redact_url(full_url) != params["url"]:
            raise StepFailed("InvalidParameter", "url: the stored URLs do not match.")
    return Next()


def _full_url(ctx: StepContext) -> str:
    """The URL the host fetches: the encrypted one when it carries credentials."""
    secret = DownloadSecret.objects.filter(operation_id=ctx.operation.pk).first()
    return secret.url if secret is not None else ctx.params["url"]


def _connections(ctx: StepContext) -> int:
    """The parallel connections the request chose (1 to 16); an operation from before the
    setting existed uses the team's value of today."""
    value = ctx.params.get("connections")
    if value is None:
        value = download_defaults(ctx.instance.team_id).connections.value
    try:
        checked = file_rules.validate_connections(value)
    except ValidationError as exc:
        raise StepFailed("InvalidParameter", f"connections: {exc.messages[0]}") from None
    return checked or settings.NESTOPS_DOWNLOAD_CONNECTIONS


def _download_arguments(ctx: StepContext, mode: str, token: str = "") -> dict[str, str | int]:
    params = ctx.params
    return {
        "MODE": mode,
        "URL": _full_url(ctx),
        "FOLDER": params["folder"],
        "FILENAME": params["filename"],
        "SHA256": params.get("sha256", ""),
        "OVERWRITE": 1 if params.get("overwrite") else 0,
        "MAX_BYTES": settings.NESTOPS_DOWNLOAD_MAX_BYTES,
        "RESERVE_BYTES": RESERVE_BYTES,
        "EXTENSIONS": " ".join(file_rules.allowed_extensions()),
        "TOKEN": token,
        "ALLOW_PRIVATE": 1 if settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS else 0,
        "CONNECTIONS": _connections(ctx),
        **_host_arguments(ctx),
    }


def _team_token(ctx: StepContext) -> str:
    """The team's token for the URL's site; read when the script is rendered, never stored."""
    provider = file_rules.token_provider_for(ctx.params["url"])
    row = SourceToken.objects.filter(team_id=ctx.instance.team_id, provider=provider).first()
    if row is None:
        return ""
    ctx.log(f"the team's {row.get_provider_display()} token goes with the download")
    return row.token


def download(ctx: StepContext) -> Next | Wait:
    token = "" if "execution:download" in ctx.state else _team_token(ctx)
    outcome = run_script(
        ctx, "download", "download_model", _download_arguments(ctx, "download", token)
    )
    if isinstance(outcome, Wait):
        if "execution:download" in ctx.state:
            progress.read_progress(ctx, ctx.params["path"])
        return outcome
    ctx.state.pop("progress_run", None)
    result = script_result(ctx, "download")
    if not (isinstance(result.get("size"), int) and isinstance(result.get("sha256"), str)):
        raise StepFailed("ScriptResultMissing", "The download script reported no size.")
    return outcome


def discard_partial(ctx: StepContext) -> Next | Wait:
    """Cleanup after a cancel: the partial file goes (a failure keeps it, to resume)."""
    if ctx.state.get("outcome") != "cancelled" or "execution:download" not in ctx.state:
        return Next(skipped=True)
    return run_script(ctx, "discard", "download_model", _download_arguments(ctx, "discard"))


def download_succeeded(ctx: StepContext) -> None:
    params = ctx.params
    result = ctx.state["result:download"]
    if file_rules.is_image(params["path"]):
        inventory.record_downloaded_preview(ctx.instance, params["path"])
        enqueue_thumbnail_reading(instance=ctx.instance)
        return
    inventory.record_download(
        ctx.instance,
        path=params["path"],
        kind=params["kind"],
        size=result["size"],
        sha256=result["sha256"],
        source_url=params["url"],
    )


DOWNLOAD = Handler(
    steps=(
        Step("check", _("Check the request"), check_download),
        Step("download", _("Download the file on the host"), download),
    ),
    rollback=(
        CANCEL_SCRIPTS,
        Step("discard_partial", _("Remove the partial file"), discard_partial),
    ),
    on_success=download_succeeded,
)


# --- delete ----------------------------------------------------------------------------------


def delete_file(ctx: StepContext) -> Next | Wait:
    return run_script(
        ctx, "delete", "delete_model", {"PATH": _checked_path(ctx), **_host_arguments(ctx)}
    )


DELETE = Handler(
    steps=(Step("delete", _("Delete the file on the host"), delete_file),),
    rollback=(CANCEL_SCRIPTS,),
    on_success=lambda ctx: inventory.forget_model(ctx.instance, ctx.params["path"]),
)


# --- preview ---------------------------------------------------------------------------------


def send_preview(ctx: StepContext) -> Next | Wait:
    """Sends the PNG to the host's staging folder with ECS SendFile (at most 32 KB)."""
    instance = ctx.instance
    _checked_path(ctx)
    invoke_id = ctx.state.get("send_file")
    if not invoke_id:
        encoded = ctx.state.get("preview_png") or ""
        try:
            previews.check_preview_png(base64.b64decode(encoded, validate=True))
        except (ValidationError, binascii.Error, ValueError):
            raise StepFailed("InvalidParameter", "The preview image is not a valid PNG.") from None
        invoke_id, request_id = ecs.send_file(
            instance.region,
            [instance.cloud_instance_id],
            name=f"{ctx.operation.public_id}.png",
            target_dir=STAGING_DIR,
            content_base64=encoded,
            file_mode="0600",
        )
        ctx.request_id(request_id)
        ctx.state["send_file"] = invoke_id
    sent = ecs.describe_send_file(instance.region, invoke_id)
    if sent is None or not sent.finished:
        if sent is None and ctx.elapsed_in_step() > APPEAR_GRACE_SECONDS:
            raise StepFailed("SendFileNotFound", f"SendFile {invoke_id} is not listed.")
        return poll()
    if sent.status != "Success":
        raise StepFailed("SendFileFailed", "; ".join(sent.errors) or sent.status)
    # The image is on the host: the operation's row need not carry it any longer.
    ctx.state.pop("preview_png", None)
    return Next()


def place_preview(ctx: StepContext) -> Next | Wait:
    return run_script(
        ctx,
        "place",
        "place_preview",
        {"MODEL_PATH": _checked_path(ctx), "STAGED": f"{ctx.operation.public_id}.png"},
    )


def preview_placed(ctx: StepContext) -> None:
    encoded = ctx.state.pop("thumbnail_png", "")
    try:
        thumbnail = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        thumbnail = b""
    inventory.record_preview(ctx.instance, ctx.params["path"], thumbnail)


SET_PREVIEW = Handler(
    steps=(
        Step("send", _("Send the image to the host"), send_preview),
        Step("place", _("Place the image next to the model"), place_preview),
    ),
    rollback=(CANCEL_SCRIPTS,),
    on_success=preview_placed,
)


# --- inventory -------------------------------------------------------------------------------


def list_files(ctx: StepContext) -> Next | Wait:
    """Runs inventory.sh page by page until the host has listed everything."""
    page = ctx.state.get("inventory_page", 0)
    purpose = f"inventory-{page}"
    outcome = run_script(
        ctx,
        purpose,
        "inventory",
        {
            "OFFSET": ctx.state.get("inventory_offset", 0),
            "BUDGET": INVENTORY_BUDGET,
            "EXTENSIONS": " ".join(file_rules.model_extensions()),
            "TIMEOUT": min(600, seconds_left(ctx)),
        },
    )
    if isinstance(outcome, Wait):
        return outcome
    result = script_result(ctx, purpose)
    ctx.state.pop(f"result:{purpose}")
    found: dict[str, list[Any]] = ctx.state.setdefault("found", {"models": [], "extensions": []})
    found["models"] += result.get("models") or []
    if page == 0:
        found["extensions"] = result.get("extensions") or []
        disk = result.get("disk")
        if isinstance(disk, list) and len(disk) == 2:
            progress.record_free_space(ctx.instance.pk, disk[0], disk[1])
    next_offset = result.get("next")
    if isinstance(next_offset, int) and next_offset > ctx.state.get("inventory_offset", 0):
        if page + 1 >= MAX_INVENTORY_PAGES:
            raise StepFailed(
                "InventoryTooLarge",
                f"The host holds more files than {MAX_INVENTORY_PAGES} pages list.",
            )
        ctx.state["inventory_page"] = page + 1
        ctx.state["inventory_offset"] = next_offset
        return Wait(0, "next page")
    ctx.log(
        f"the host holds {len(found['models'])} model files and "
        f"{len(found['extensions'])} extensions"
    )
    return Next()


def inventory_listed(ctx: StepContext) -> None:
    found = ctx.state.pop("found")
    inventory.replace_inventory(
        ctx.instance, models=found["models"], extensions=found["extensions"]
    )
    enqueue_thumbnail_reading(instance=ctx.instance)


REFRESH_INVENTORY = Handler(
    steps=(Step("list", _("List the files on the host"), list_files),),
    rollback=(CANCEL_SCRIPTS,),
    on_success=inventory_listed,
)
