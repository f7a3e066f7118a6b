from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from hostfiles.models import Extension, ModelFile, SourceToken
from nestops.admin import ReadOnlyAdmin


@admin.register(ModelFile)
class ModelFileAdmin(ReadOnlyAdmin):
    """Model files on hosts as the last download or inventory refresh saw them."""

    list_display = ["public_id", "path", "kind", "instance", "size_bytes", "has_preview"]
    list_filter = ["kind", "has_preview"]
    search_fields = ["public_id", "path", "instance__public_id", "sha256"]
    list_select_related = ["instance"]


@admin.register(Extension)
class ExtensionAdmin(ReadOnlyAdmin):
    """Extensions on hosts."""

    list_display = ["public_id", "name", "instance", "ref", "commit", "updated_at"]
    search_fields = ["public_id", "name", "remote_url", "instance__public_id"]
    list_select_related = ["instance"]


@admin.register(SourceToken)
class SourceTokenAdmin(admin.ModelAdmin):
    """Which teams have model site tokens; the tokens are set through the API, never shown."""

    list_display = ["team", "provider", "updated_by", "updated_at"]
    list_filter = ["provider"]
    readonly_fields = ["team", "provider", "updated_by", "updated_at"]
    exclude = ["token"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
