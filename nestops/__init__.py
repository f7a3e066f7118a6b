"""nestops: a control plane for Stable Diffusion WebUI hosts on Alibaba Cloud."""

from __future__ import annotations

from nestops.celery import app as celery_app

__all__ = ["celery_app"]
