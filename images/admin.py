from __future__ import annotations

from django.contrib import admin

from images.models import ImageBuild, WebUIImage
from nestops.admin import ReadOnlyAdmin


@admin.register(ImageBuild)
class ImageBuildAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "template", "region", "status", "error_code", "created_at"]
    list_filter = ["status", "template", "region"]
    search_fields = ["public_id", "base_image_id"]


@admin.register(WebUIImage)
class WebUIImageAdmin(ReadOnlyAdmin):
    list_display = ["cloud_image_id", "template", "region", "status", "created_at"]
    list_filter = ["template", "region", "status"]
    search_fields = ["cloud_image_id", "name"]
