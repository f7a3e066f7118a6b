"""Reads of what is on a host (its model files and extensions) and of a team's download
settings as they apply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from hostfiles.models import Extension, ModelFile, TeamFileSettings
from hostfiles.sources import HUGGINGFACE
from instances.models import ServiceInstance


def model_files_on(instance: ServiceInstance) -> QuerySet[ModelFile]:
    # The thumbnails' bytes are served by their own URL; lists do not load them.
    return (
        ModelFile.objects.filter(instance=instance)
        .select_related("instance")
        .defer("preview_thumbnail")
    )


def extensions_on(instance: ServiceInstance) -> QuerySet[Extension]:
    return Extension.objects.filter(instance=instance).select_related("instance")


@dataclass(frozen=True)
class Effective:
    """A download setting as it applies to a team: its value and where it comes from
    (``team`` for the team's own, ``server`` for the server's default)."""

    value: Any
    origin: str
    setting: str

    @property
    def from_team(self) -> bool:
        return self.origin == "team"


@dataclass(frozen=True)
class DownloadDefaults:
    """What a team's downloads use: the GitHub mirror (empty: none), the Hugging Face endpoint
    and the parallel connections per download."""

    github_mirror: Effective
    huggingface_endpoint: Effective
    connections: Effective
    row: TeamFileSettings | None


@dataclass(frozen=True)
class ServerDefaults:
    """The server's download settings, what a team without its own value uses: the GitHub
    mirror (empty: none), the Hugging Face endpoint and the parallel connections per download."""

    github_mirror: str
    huggingface_endpoint: str
    connections: int


def server_download_defaults() -> ServerDefaults:
    return ServerDefaults(
        github_mirror=settings.NESTOPS_GITHUB_MIRROR,
        huggingface_endpoint=settings.NESTOPS_HUGGINGFACE_ENDPOINT or HUGGINGFACE,
        connections=settings.NESTOPS_DOWNLOAD_CONNECTIONS,
    )


def _effective(team_value: Any, server_value: Any, setting: str) -> Effective:
    if team_value not in (None, ""):
        return Effective(team_value, "team", setting)
    return Effective(server_value, "server", setting)


def download_defaults(team_id: int | None) -> DownloadDefaults:
    """The team's own values where it set them, else the server's."""
    row = TeamFileSettings.objects.filter(team_id=team_id).first() if team_id is not None else None
    server = server_download_defaults()
    return DownloadDefaults(
        github_mirror=_effective(
            row and row.github_mirror, server.github_mirror, "NESTOPS_GITHUB_MIRROR"
        ),
        huggingface_endpoint=_effective(
            row and row.huggingface_endpoint,
            server.huggingface_endpoint,
            "NESTOPS_HUGGINGFACE_ENDPOINT",
        ),
        connections=_effective(
            row and row.download_connections, server.connections, "NESTOPS_DOWNLOAD_CONNECTIONS"
        ),
        row=row,
    )
