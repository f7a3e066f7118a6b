"""Celery tasks of hostfiles: read the previews an inventory found on a host."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="hostfiles.read_preview_thumbnails", ignore_result=True)
def read_preview_thumbnails(instance_id: int) -> int:
    from hostfiles.services import read_preview_thumbnails as read

    return read(instance_id=instance_id)
