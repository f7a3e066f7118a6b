"""Celery tasks of image builds: thin wrappers around the builder."""

from __future__ import annotations

from celery import shared_task

from images import builder


@shared_task(name="images.advance_build", ignore_result=True)
def advance_build(build_id: int) -> None:
    builder.advance(build_id)


@shared_task(name="images.dispatch_due", ignore_result=True)
def dispatch_due() -> int:
    return builder.dispatch_due()
