"""API shapes of a host's model files, extensions, a team's model site tokens and download
settings, and what users send."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from hostfiles import previews, sources
from hostfiles import rules as file_rules
from hostfiles.models import (
    DownloadSource,
    Extension,
    ModelFile,
    ModelKind,
    SourceToken,
    TokenProvider,
)
from hostfiles.selectors import DownloadDefaults, server_download_defaults
from nestops.api import StrictModelSerializer, StrictSerializer, absolute_url
from nestops.times import iso_time


def _checked(check: Any, value: Any) -> Any:
    try:
        return check(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None


class ModelFileSerializer(StrictModelSerializer):
    """A model file on a host."""

    id = serializers.CharField(source="public_id", read_only=True)
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField(
        help_text=gettext_lazy("A small PNG of the preview; null when nestops has none.")
    )

    class Meta:
        model = ModelFile
        fields = [
            "id",
            "url",
            "kind",
            "name",
            "path",
            "size_bytes",
            "sha256",
            "has_preview",
            "thumbnail_url",
            "source_url",
            "modified_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_url(self, model_file: ModelFile) -> str:
        path = f"/api/v1/instances/{model_file.instance.public_id}/models/{model_file.public_id}/"
        return absolute_url(self.context, path)

    def get_thumbnail_url(self, model_file: ModelFile) -> str | None:
        path = model_file.thumbnail_path
        return absolute_url(self.context, path) if path else None


class DownloadSerializer(StrictSerializer):
    """A model file to download onto the host: a URL, or a file of a Hugging Face or
    ModelScope repository (``source``, ``repo``, ``file``, ``revision``)."""

    url = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=file_rules.MAX_URL_LENGTH,
        help_text=gettext_lazy(
            "https:// URL of the file; credentials in its query string (a presigned link) are "
            "kept encrypted and shown redacted. A Hugging Face or ModelScope file page or "
            "download link is turned into the file's download URL (Hugging Face on the team's "
            "endpoint)."
        ),
    )
    source = serializers.ChoiceField(
        choices=DownloadSource.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("Instead of a URL: the site of the repository."),
    )
    repo = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text=gettext_lazy("With source: the repository, owner/name."),
    )
    file = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=sources.MAX_PATH_LENGTH,
        help_text=gettext_lazy("With source: the file's path in the repository."),
    )
    revision = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text=gettext_lazy(
            "With source: a branch, tag or commit; by default main (Hugging Face) or master "
            "(ModelScope)."
        ),
    )
    kind = serializers.ChoiceField(choices=ModelKind.choices)
    filename = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=255,
        help_text=gettext_lazy("File name on the host; by default the URL's last part."),
    )
    directory = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text=gettext_lazy(
            "Sub-folder of the kind's folder; for kind 'other', the folder relative to the "
            "WebUI directory, under models/ or embeddings/ (e.g. models/LyCORIS)."
        ),
    )
    sha256 = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    overwrite = serializers.BooleanField(default=False)

    def validate_url(self, value: str) -> str:
        return _checked(file_rules.validate_download_url, value) if value.strip() else ""

    def validate_filename(self, value: str) -> str:
        return _checked(file_rules.validate_filename, value) if value.strip() else ""

    def validate_sha256(self, value: str) -> str:
        return _checked(file_rules.validate_sha256, value)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        errors = {}
        try:
            # The team's endpoint is the service's to apply; the checks do not depend on it.
            resolved = sources.resolve(
                url=data["url"],
                source=data["source"],
                repo=data["repo"],
                file=data["file"],
                revision=data["revision"],
            )
        except DjangoValidationError as exc:
            errors.update(exc.message_dict)
            resolved = None
        try:
            file_rules.model_folder(data["kind"], data["directory"])
        except DjangoValidationError as exc:
            errors["directory"] = exc.messages
        if resolved is not None:
            try:
                file_rules.validate_download_url(resolved.url)
            except DjangoValidationError as exc:
                errors.setdefault("url", exc.messages)
        if errors:
            raise serializers.ValidationError(errors)
        if (
            resolved is not None
            and not data["filename"]
            and not file_rules.filename_from_url(resolved.url)
        ):
            raise serializers.ValidationError(
                {
                    "filename": [
                        _(
                            "The URL does not end with a model file name: give the file name "
                            "(e.g. model_v1.safetensors)."
                        )
                    ]
                }
            )
        return data


class PreviewSerializer(StrictSerializer):
    """An image (PNG, JPEG, WebP or GIF) that becomes the model's preview."""

    image = serializers.FileField()

    def validate_image(self, upload: Any) -> bytes:
        if upload.size > previews.MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(
                _("The image is larger than %(max)d MB.")
                % {"max": previews.MAX_UPLOAD_BYTES // 2**20}
            )
        return _checked(previews.make_preview, upload.read())


class ExtensionSerializer(StrictModelSerializer):
    """An extension on a host."""

    id = serializers.CharField(source="public_id", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Extension
        fields = ["id", "url", "name", "remote_url", "ref", "commit", "created_at", "updated_at"]
        read_only_fields = fields

    def get_url(self, extension: Extension) -> str:
        path = f"/api/v1/instances/{extension.instance.public_id}/extensions/{extension.public_id}/"
        return absolute_url(self.context, path)


class ExtensionInstallSerializer(StrictSerializer):
    url = serializers.CharField(
        max_length=500, help_text=gettext_lazy("The repository, e.g. https://github.com/o/n.")
    )
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text=gettext_lazy("Folder under extensions/; by default the repository's name."),
    )
    ref = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text=gettext_lazy("Branch, tag or commit; by default the default branch."),
    )
    restart_webui = serializers.BooleanField(
        default=True, help_text=gettext_lazy("The WebUI loads extensions when it starts.")
    )

    def validate_url(self, value: str) -> str:
        return _checked(file_rules.validate_extension_url, value)

    def validate_name(self, value: str) -> str:
        return _checked(file_rules.validate_extension_name, value) if value.strip() else ""

    def validate_ref(self, value: str) -> str:
        return _checked(file_rules.validate_git_ref, value)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if not data["name"]:
            default = file_rules.extension_name_from_url(data["url"])
            try:
                file_rules.validate_extension_name(default)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"name": exc.messages}) from None
        return data


class ExtensionUpdateSerializer(StrictSerializer):
    ref = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text=gettext_lazy("Another branch, tag or commit; by default the current one."),
    )
    restart_webui = serializers.BooleanField(default=True)

    def validate_ref(self, value: str) -> str:
        return _checked(file_rules.validate_git_ref, value)


class ExtensionRemoveSerializer(StrictSerializer):
    restart_webui = serializers.BooleanField(default=True)


class SourceTokenSerializer(StrictSerializer):
    """Whether a team has a token for a model site; the token itself is never shown."""

    provider = serializers.ChoiceField(choices=TokenProvider.choices, read_only=True)
    configured = serializers.BooleanField(read_only=True)
    updated_by = serializers.CharField(read_only=True, allow_null=True)
    updated_at = serializers.CharField(read_only=True, allow_null=True)
    token = serializers.CharField(
        write_only=True, max_length=512, trim_whitespace=True, style={"input_type": "password"}
    )

    def validate_token(self, value: str) -> str:
        return _checked(file_rules.validate_token, value)


def token_status(provider: str, row: SourceToken | None) -> dict[str, Any]:
    return {
        "provider": provider,
        "configured": row is not None,
        "updated_by": row.updated_by.username if row and row.updated_by_id else None,
        "updated_at": iso_time(row.updated_at) if row else None,
    }


# --- the team's download settings ------------------------------------------------------------


class ConnectionsField(serializers.IntegerField):
    """Parallel connections per download, checked by the rule the settings page uses (1 to
    16); null or an empty string is the server's default."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", file_rules.MIN_CONNECTIONS)
        kwargs.setdefault("max_value", file_rules.MAX_CONNECTIONS)
        super().__init__(allow_null=True, **kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if isinstance(data, str) and not data.strip():
            data = None
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> int | None:
        return _checked(file_rules.validate_connections, super().to_internal_value(data))


# Where a download setting's value comes from (``hostfiles.selectors.Effective.origin``).
SETTING_ORIGINS = [
    ("team", gettext_lazy("the team's setting")),
    ("server", gettext_lazy("the server's default")),
]


class EffectiveDownloadSettingSerializer(serializers.Serializer):
    origin = serializers.ChoiceField(
        choices=SETTING_ORIGINS,
        read_only=True,
        help_text=gettext_lazy("Where the value comes from: the team's setting or the server's."),
    )
    setting = serializers.CharField(
        read_only=True, help_text=gettext_lazy("The server setting that holds the default.")
    )


class EffectiveDownloadURLSerializer(EffectiveDownloadSettingSerializer):
    value = serializers.CharField(read_only=True)


class EffectiveDownloadNumberSerializer(EffectiveDownloadSettingSerializer):
    value = serializers.IntegerField(read_only=True)


class EffectiveDownloadSettingsSerializer(serializers.Serializer):
    github_mirror = EffectiveDownloadURLSerializer(
        read_only=True, help_text=gettext_lazy("Empty: extensions are cloned from GitHub itself.")
    )
    huggingface_endpoint = EffectiveDownloadURLSerializer(read_only=True)
    download_connections = EffectiveDownloadNumberSerializer(read_only=True)


class ServerDownloadDefaultsSerializer(serializers.Serializer):
    github_mirror = serializers.CharField(read_only=True)
    huggingface_endpoint = serializers.CharField(read_only=True)
    download_connections = serializers.IntegerField(read_only=True)


class DownloadSettingsSerializer(StrictSerializer):
    """A team's download settings: its own values (null: the server's default), the server's
    defaults and the values its hosts use. Team admins change the first three; null or an empty
    string puts a setting back to the server's default."""

    team = serializers.CharField(read_only=True)
    github_mirror = serializers.CharField(
        allow_null=True,
        allow_blank=True,
        help_text=gettext_lazy(
            "The prefix GitHub extensions are cloned through, e.g. https://ghproxy.example/."
        ),
    )
    huggingface_endpoint = serializers.CharField(
        allow_null=True,
        allow_blank=True,
        help_text=gettext_lazy(
            "Where Hugging Face files are downloaded from, e.g. https://hf-mirror.com."
        ),
    )
    download_connections = ConnectionsField(
        help_text=gettext_lazy("Parallel connections per download, 1 to 16.")
    )
    server_defaults = ServerDownloadDefaultsSerializer(read_only=True)
    effective = EffectiveDownloadSettingsSerializer(read_only=True)
    updated_by = serializers.CharField(read_only=True, allow_null=True)
    updated_at = serializers.CharField(read_only=True, allow_null=True)

    def validate_github_mirror(self, value: str | None) -> str:
        return _checked(file_rules.validate_mirror, value or "")

    def validate_huggingface_endpoint(self, value: str | None) -> str:
        return _checked(file_rules.validate_endpoint, value or "")


def download_settings_status(team_slug: str, defaults: DownloadDefaults) -> dict[str, Any]:
    """What ``DownloadSettingsSerializer`` shows, from the values every download resolves."""
    row = defaults.row
    server = server_download_defaults()
    effective = {
        "github_mirror": defaults.github_mirror,
        "huggingface_endpoint": defaults.huggingface_endpoint,
        "download_connections": defaults.connections,
    }
    return {
        "team": team_slug,
        "github_mirror": (row.github_mirror or None) if row else None,
        "huggingface_endpoint": (row.huggingface_endpoint or None) if row else None,
        "download_connections": row.download_connections if row else None,
        "server_defaults": {
            "github_mirror": server.github_mirror,
            "huggingface_endpoint": server.huggingface_endpoint,
            "download_connections": server.connections,
        },
        "effective": {
            name: {"value": value.value, "origin": value.origin, "setting": value.setting}
            for name, value in effective.items()
        },
        "updated_by": row.updated_by.username if row and row.updated_by_id else None,
        "updated_at": iso_time(row.updated_at) if row else None,
    }
