"""Writes to a host's inventory (model files and extensions) after its operations succeed.

Operation handlers call these inside the transaction that finishes the operation, with the
instance row locked, so two operations ending together write one after the other.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError

from hostfiles import rules as file_rules
from hostfiles.models import Extension, ModelFile, thumbnail_etag
from instances.models import ServiceInstance

# What a refresh keeps of a row whose file did not change (size and time as before).
KEPT_WHEN_UNCHANGED = ("sha256", "source_url")


def record_download(
    instance: ServiceInstance, *, path: str, kind: str, size: int, sha256: str, source_url: str
) -> ModelFile:
    model_file, _created = ModelFile.objects.update_or_create(
        instance=instance,
        path=path,
        defaults={
            "kind": kind,
            "name": path.rpartition("/")[2],
            "size_bytes": size,
            "sha256": sha256,
            "source_url": source_url,
            "modified_at": datetime.now(UTC),
            "has_preview": False,
        },
    )
    return model_file


def forget_model(instance: ServiceInstance, path: str) -> None:
    ModelFile.objects.filter(instance=instance, path=path).delete()


def record_preview(instance: ServiceInstance, path: str, thumbnail: bytes = b"") -> None:
    """A preview is now next to the model; without a thumbnail (a downloaded image) the host's
    copy is read once later (``services.read_preview_thumbnails``)."""
    ModelFile.objects.filter(instance=instance, path=path).update(
        has_preview=True,
        preview_thumbnail=thumbnail,
        thumbnail_etag=thumbnail_etag(thumbnail),
        preview_read_at=None,
    )


def record_downloaded_preview(instance: ServiceInstance, image_path: str) -> None:
    """A downloaded image is the preview of the models with its stem in that folder."""
    stem = file_rules.preview_stem(image_path)
    for model_file in ModelFile.objects.filter(instance=instance, path__startswith=stem + "."):
        if model_file.path.rpartition(".")[0] == stem:
            record_preview(instance, model_file.path)


def record_extension(
    instance: ServiceInstance, *, name: str, remote_url: str, ref: str, commit: str
) -> Extension:
    extension, _created = Extension.objects.update_or_create(
        instance=instance,
        name=name,
        defaults={"remote_url": file_rules.redact_url(remote_url), "ref": ref, "commit": commit},
    )
    return extension


def forget_extension(instance: ServiceInstance, name: str) -> None:
    Extension.objects.filter(instance=instance, name=name).delete()


def _found_models(entries: list[Any]) -> dict[str, tuple[int, datetime, bool]]:
    """Entries ``[path, size, modified, has_preview]`` a host reported; malformed ones are
    dropped (the host is not trusted to send only sensible paths)."""
    found = {}
    for entry in entries:
        if not (isinstance(entry, list) and len(entry) == 4):
            continue
        path, size, modified, preview = entry
        if not (isinstance(path, str) and isinstance(size, int) and isinstance(modified, int)):
            continue
        try:
            file_rules.validate_model_path(path)
        except ValidationError:
            continue
        found[path] = (max(size, 0), datetime.fromtimestamp(modified, UTC), preview is True)
    return found


def replace_inventory(
    instance: ServiceInstance, *, models: list[Any], extensions: list[Any]
) -> tuple[int, int]:
    """Makes the rows match what the host holds; returns (model files, extensions)."""
    found = _found_models(models)
    existing = {m.path: m for m in ModelFile.objects.filter(instance=instance)}
    ModelFile.objects.filter(instance=instance).exclude(path__in=list(found)).delete()
    for path, (size, modified, preview) in found.items():
        row = existing.get(path)
        if row is None:
            row = ModelFile(instance=instance, path=path, name=path.rpartition("/")[2])
        elif row.size_bytes != size:
            # Another file now: what nestops knew about the old one no longer holds.
            for field in KEPT_WHEN_UNCHANGED:
                setattr(row, field, "")
        row.kind = file_rules.kind_of_path(path)
        row.size_bytes = size
        row.modified_at = modified
        row.has_preview = preview
        if not preview:
            row.set_thumbnail(b"")
            row.preview_read_at = None
        row.save()

    names: dict[str, tuple[str, str]] = {}
    for entry in extensions:
        if not (
            isinstance(entry, list) and len(entry) == 3 and all(isinstance(v, str) for v in entry)
        ):
            continue
        name, remote, commit = entry
        try:
            file_rules.validate_extension_name(name)
        except ValidationError:
            continue
        names[name] = (file_rules.redact_url(remote)[:500], commit[:40])
    Extension.objects.filter(instance=instance).exclude(name__in=list(names)).delete()
    known = {e.name: e for e in Extension.objects.filter(instance=instance)}
    for name, (remote, commit) in names.items():
        row = known.get(name) or Extension(instance=instance, name=name)
        if row.remote_url != remote:
            row.ref = ""
        row.remote_url = remote
        row.commit = commit
        row.save()
    return len(found), len(names)
