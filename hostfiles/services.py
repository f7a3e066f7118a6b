"""Asking for file operations on a host: models, previews, extensions, the inventory.

Each function checks the values again (the API's serializers checked them first; the handler
and the host script check them once more), builds the operation's ``params`` from values a
user may see (no token, no password: the handler reads those when it renders the script) and
hands over to ``request_operation``, which applies the rules every operation follows.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AuditAction, AuditEvent, Team
from accounts.requester import Requester
from hostfiles import previews, sources
from hostfiles import rules as file_rules
from hostfiles.models import (
    DownloadSecret,
    Extension,
    ModelFile,
    SourceToken,
    TeamFileSettings,
    thumbnail_etag,
)
from hostfiles.selectors import download_defaults
from instances import webui
from instances.models import ServiceInstance, Status
from nestops.url_credentials import redact_url
from operations.models import Kind, Operation
from operations.services import InvalidRequest, OperationRefused, request_operation

logger = logging.getLogger(__name__)


def _collect(checks: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Runs each field's check; raises every field's errors together."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field, check in checks.items():
        try:
            values[field] = check()
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise InvalidRequest(errors)
    return values


def _is_retry(requester: Requester) -> bool:
    """A repeated request: ``request_operation`` answers it with the earlier operation, so the
    checks of what is on the host (which that operation changed) must not refuse it first."""
    if not requester.idempotency_key:
        return False
    return Operation.objects.filter(
        actor=requester.user, idempotency_key=requester.idempotency_key
    ).exists()


# --- models ----------------------------------------------------------------------------------


def download_params(
    *,
    url: str = "",
    kind: str,
    filename: str = "",
    directory: str = "",
    sha256: str = "",
    source: str = "",
    repo: str = "",
    file: str = "",
    revision: str = "",
    huggingface_endpoint: str = "",
) -> dict[str, str]:
    """The checked values of a download; raises ``InvalidRequest`` naming each bad field.

    The file is a URL, or a repository file on Hugging Face or ModelScope (``source``,
    ``repo``, ``file``, ``revision``); a Hugging Face or ModelScope page URL is resolved too
    (``hostfiles.sources``), Hugging Face files on ``huggingface_endpoint``.
    """
    try:
        resolved = sources.resolve(
            url=url,
            source=source,
            repo=repo,
            file=file,
            revision=revision,
            huggingface_endpoint=huggingface_endpoint,
        )
    except ValidationError as exc:
        raise InvalidRequest(exc.message_dict) from None
    checks: dict[str, Callable[[], Any]] = {
        "url": lambda: file_rules.validate_download_url(resolved.url),
        "folder": lambda: file_rules.model_folder(kind, directory),
        "sha256": lambda: file_rules.validate_sha256(sha256),
    }
    if filename:
        checks["filename"] = lambda: file_rules.validate_filename(filename)
    values = _collect(checks)
    if not filename:
        values["filename"] = file_rules.filename_from_url(values["url"])
        if not values["filename"]:
            raise InvalidRequest(
                {
                    "filename": [
                        _(
                            "The URL does not end with a model file name: give the file name "
                            "(e.g. model_v1.safetensors)."
                        )
                    ]
                }
            )
    params = {
        "url": values["url"],
        "kind": kind,
        "directory": directory.strip().rstrip("/"),
        "folder": values["folder"],
        "filename": values["filename"],
        "path": f"{values['folder']}/{values['filename']}",
        "sha256": values["sha256"],
    }
    if resolved.file is not None:
        params.update(
            source=resolved.file.site,
            repo=resolved.file.repo,
            file=resolved.file.path,
            revision=resolved.file.revision,
        )
    return params


def request_download(
    *,
    instance: ServiceInstance,
    url: str = "",
    kind: str,
    filename: str = "",
    directory: str = "",
    sha256: str = "",
    source: str = "",
    repo: str = "",
    file: str = "",
    revision: str = "",
    overwrite: bool = False,
    requester: Requester,
) -> tuple[Operation, bool]:
    """Asks the host to download a file, from the team's Hugging Face endpoint for Hugging Face
    files, over the team's number of parallel connections (both kept in ``params``)."""
    defaults = download_defaults(instance.team_id)
    params: dict[str, Any] = download_params(
        url=url,
        kind=kind,
        filename=filename,
        directory=directory,
        sha256=sha256,
        source=source,
        repo=repo,
        file=file,
        revision=revision,
        huggingface_endpoint=defaults.huggingface_endpoint.value,
    )
    params["connections"] = _collect(
        {"connections": lambda: file_rules.validate_connections(defaults.connections.value)}
    )["connections"]
    # A presigned URL is a secret: the operation keeps it redacted, the full one is encrypted.
    full_url = params["url"]
    params["url"] = redact_url(full_url)
    if (
        not overwrite
        and ModelFile.objects.filter(instance=instance, path=params["path"]).exists()
        and not _is_retry(requester)
    ):
        raise OperationRefused(
            "model_exists",
            _("%(path)s is already on %(instance)s. Delete it first, or ask to overwrite it.")
            % {"path": params["path"], "instance": instance.public_id},
            {"path": params["path"]},
        )
    params.update(overwrite=bool(overwrite), target=f"model:{params['path']}")
    with transaction.atomic():  # the operation runs once both rows are committed
        operation, created = request_operation(
            instance=instance,
            kind=Kind.DOWNLOAD_MODEL,
            params=params,
            requester=requester,
        )
        if created and full_url != params["url"]:
            DownloadSecret.objects.create(operation=operation, url=full_url)
    return operation, created


def _model_params(model_file: ModelFile) -> dict[str, str]:
    path = _collect({"path": lambda: file_rules.validate_model_path(model_file.path)})["path"]
    return {"model": model_file.public_id, "path": path, "target": f"model:{path}"}


def request_model_delete(
    *,
    model_file: ModelFile,
    requester: Requester,
) -> tuple[Operation, bool]:
    return request_operation(
        instance=model_file.instance,
        kind=Kind.DELETE_MODEL,
        params=_model_params(model_file),
        requester=requester,
    )


def request_preview(
    *,
    model_file: ModelFile,
    png: bytes,
    requester: Requester,
) -> tuple[Operation, bool]:
    """Places ``png`` (made by ``previews.make_preview``) next to the model on its host."""
    _collect({"image": lambda: previews.check_preview_png(png)})
    params = {
        **_model_params(model_file),
        "preview_sha256": hashlib.sha256(png).hexdigest(),
        "preview_bytes": len(png),
    }
    # The image rides in the handler's state, not in params: params are in every listing.
    return request_operation(
        instance=model_file.instance,
        kind=Kind.SET_PREVIEW,
        params=params,
        requester=requester,
        state={
            "preview_png": base64.b64encode(png).decode("ascii"),
            "thumbnail_png": base64.b64encode(previews.make_thumbnail(png)).decode("ascii"),
        },
    )


# --- extensions ------------------------------------------------------------------------------


def github_mirror(team_id: int) -> str:
    """The team's own GitHub mirror (empty: ``clone_url`` uses NESTOPS_GITHUB_MIRROR)."""
    mirror = download_defaults(team_id).github_mirror
    return mirror.value if mirror.from_team else ""


def extension_params(
    *, url: str, name: str = "", ref: str = "", mirror: str = ""
) -> dict[str, str]:
    values = _collect(
        {
            "url": lambda: file_rules.validate_extension_url(url),
            "ref": lambda: file_rules.validate_git_ref(ref),
        }
    )
    chosen = name or file_rules.extension_name_from_url(values["url"])
    values.update(_collect({"name": lambda: file_rules.validate_extension_name(chosen)}))
    return {
        "url": values["url"],
        "fetch_url": file_rules.clone_url(values["url"], mirror or None),
        "name": values["name"],
        "ref": values["ref"],
        "target": f"extension:{values['name']}",
    }


def request_extension_install(
    *,
    instance: ServiceInstance,
    url: str,
    name: str = "",
    ref: str = "",
    restart_webui: bool = True,
    requester: Requester,
) -> tuple[Operation, bool]:
    params: dict[str, Any] = extension_params(
        url=url, name=name, ref=ref, mirror=github_mirror(instance.team_id)
    )
    if Extension.objects.filter(instance=instance, name=params["name"]).exists() and not _is_retry(
        requester
    ):
        raise OperationRefused(
            "extension_exists",
            _("%(instance)s already has the extension %(name)s; update it instead.")
            % {"instance": instance.public_id, "name": params["name"]},
            {"name": params["name"]},
        )
    params["restart_webui"] = bool(restart_webui)
    return request_operation(
        instance=instance,
        kind=Kind.INSTALL_EXTENSION,
        params=params,
        requester=requester,
    )


def request_extension_update(
    *,
    extension: Extension,
    ref: str | None = None,
    restart_webui: bool = True,
    requester: Requester,
) -> tuple[Operation, bool]:
    """Fetches the extension's ``ref`` (its current one when ``None``) and checks it out."""
    if not extension.remote_url:
        raise OperationRefused(
            "not_updatable",
            _("%(name)s was not installed from a git repository nestops knows; reinstall it.")
            % {"name": extension.name},
        )
    params: dict[str, Any] = extension_params(
        url=extension.remote_url,
        name=extension.name,
        ref=extension.ref if ref is None else ref,
        mirror=github_mirror(extension.instance.team_id),
    )
    params.update(extension=extension.public_id, restart_webui=bool(restart_webui))
    return request_operation(
        instance=extension.instance,
        kind=Kind.UPDATE_EXTENSION,
        params=params,
        requester=requester,
    )


def request_extension_remove(
    *,
    extension: Extension,
    restart_webui: bool = True,
    requester: Requester,
) -> tuple[Operation, bool]:
    name = _collect({"name": lambda: file_rules.validate_extension_name(extension.name)})["name"]
    return request_operation(
        instance=extension.instance,
        kind=Kind.REMOVE_EXTENSION,
        params={
            "extension": extension.public_id,
            "name": name,
            "restart_webui": bool(restart_webui),
            "target": f"extension:{name}",
        },
        requester=requester,
    )


def request_inventory_refresh(
    *,
    instance: ServiceInstance,
    requester: Requester,
) -> tuple[Operation, bool]:
    return request_operation(
        instance=instance,
        kind=Kind.REFRESH_INVENTORY,
        params={"target": "inventory"},
        requester=requester,
    )


# --- model site tokens -----------------------------------------------------------------------


def set_source_token(*, team: Team, provider: str, token: str, requester: Requester) -> SourceToken:
    """Stores (or replaces) the team's token for a model site; the audit event names the site,
    never the token."""
    token = file_rules.validate_token(token)
    with transaction.atomic():
        row, _created = SourceToken.objects.update_or_create(
            team=team, provider=provider, defaults={"token": token, "updated_by": requester.user}
        )
        AuditEvent.objects.create(
            actor=requester.user,
            team=team,
            action=AuditAction.SOURCE_TOKEN_SET,
            target=provider,
            remote_addr=requester.address,
        )
    return row


def delete_source_token(*, team: Team, provider: str, requester: Requester) -> bool:
    with transaction.atomic():
        deleted, _rows = SourceToken.objects.filter(team=team, provider=provider).delete()
        if deleted:
            AuditEvent.objects.create(
                actor=requester.user,
                team=team,
                action=AuditAction.SOURCE_TOKEN_DELETED,
                target=provider,
                remote_addr=requester.address,
            )
    return bool(deleted)


# Each download setting and the rule its value must pass (the page, the API and this service
# use the same); an empty value is the server's default.
DOWNLOAD_SETTINGS: dict[str, Callable[[Any], Any]] = {
    "github_mirror": file_rules.validate_mirror,
    "huggingface_endpoint": file_rules.validate_endpoint,
    "download_connections": file_rules.validate_connections,
}


def set_download_settings(
    *,
    team: Team,
    github_mirror: str = "",
    huggingface_endpoint: str = "",
    download_connections: int | str | None = None,
    requester: Requester,
) -> TeamFileSettings:
    """The team's download settings (each empty value: the server's default): the GitHub
    mirror and the Hugging Face endpoint, checked as outbound URLs, and the parallel
    connections per download (1 to 16)."""
    return change_download_settings(
        team=team,
        changes={
            "github_mirror": github_mirror,
            "huggingface_endpoint": huggingface_endpoint,
            "download_connections": download_connections,
        },
        requester=requester,
    )


def change_download_settings(
    *, team: Team, changes: dict[str, Any], requester: Requester
) -> TeamFileSettings:
    """Changes the download settings named in ``changes`` (the others keep their value), each
    checked by its rule in ``DOWNLOAD_SETTINGS``; ``None`` or an empty value is the server's
    default. Records who changed them and writes one audit event with the settings that
    now apply to the team."""
    unknown = set(changes) - set(DOWNLOAD_SETTINGS)
    if unknown:
        raise ValueError(f"not a download setting: {', '.join(sorted(unknown))}")
    values = _collect(
        {
            field: partial(DOWNLOAD_SETTINGS[field], _blank(field, value))
            for field, value in changes.items()
        }
    )
    with transaction.atomic():
        row, _created = TeamFileSettings.objects.select_for_update().get_or_create(team=team)
        for field, value in values.items():
            setattr(row, field, value)
        row.updated_by = requester.user
        row.save()
        AuditEvent.objects.create(
            actor=requester.user,
            team=team,
            action=AuditAction.FILE_SETTINGS_CHANGED,
            target=team.slug,
            details={field: getattr(row, field) for field in DOWNLOAD_SETTINGS},
            remote_addr=requester.address,
        )
    return row


def _blank(field: str, value: Any) -> Any:
    """``None`` for a URL setting is its empty value (the server's default)."""
    return "" if value is None and field != "download_connections" else value


# --- thumbnails of previews found on a host ------------------------------------------------


def thumbnails_to_read(instance: ServiceInstance) -> QuerySet[ModelFile]:
    return ModelFile.objects.filter(
        instance=instance, has_preview=True, thumbnail_etag="", preview_read_at__isnull=True
    )


def enqueue_thumbnail_reading(*, instance: ServiceInstance) -> None:
    """After the transaction that found previews commits, reads them in a task."""
    from hostfiles.tasks import read_preview_thumbnails

    instance_id = instance.pk
    transaction.on_commit(lambda: read_preview_thumbnails.delay(instance_id))


def read_preview_thumbnails(*, instance_id: int) -> int:
    """Reads each preview the host holds and nestops has no thumbnail of, once, through the
    host's WebUI (at most ``previews.MAX_HOST_PREVIEW_BYTES`` each), and keeps a thumbnail.
    A missing, oversized or broken preview leaves no image; a host that does not answer is
    tried again by the next inventory. Returns how many thumbnails were made."""
    instance = ServiceInstance.objects.filter(pk=instance_id, status=Status.RUNNING).first()
    if instance is None:
        return 0
    made = 0
    for model_file in thumbnails_to_read(instance).only("pk", "path"):
        thumbnail = b""
        try:
            for candidate in file_rules.preview_candidates(model_file.path):
                image = webui.preview_image(
                    instance, candidate, max_bytes=previews.MAX_HOST_PREVIEW_BYTES
                )
                if image is not None:
                    thumbnail = previews.thumbnail_of(image) or b""
                    break
        except webui.WebUIUnreachable as exc:
            logger.info("previews of %s not read: %s", instance.public_id, exc)
            return made
        # Only a row still waiting for its thumbnail is written (an upload may have set one).
        ModelFile.objects.filter(pk=model_file.pk, thumbnail_etag="").update(
            preview_thumbnail=thumbnail,
            thumbnail_etag=thumbnail_etag(thumbnail),
            preview_read_at=timezone.now(),
        )
        made += bool(thumbnail)
    return made
