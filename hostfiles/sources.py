"""Files on Hugging Face and ModelScope: from a page URL or a repository and a path to the URL a
host downloads.

A user pastes what the browser shows (a file's page or its download link) or names the
repository, the file and a revision; nestops builds the file's download URL:

- Hugging Face: ``{endpoint}/{repo}/resolve/{revision}/{path}`` on the team's endpoint (a
  mirror such as https://hf-mirror.com that serves the same paths), else
  ``NESTOPS_HUGGINGFACE_ENDPOINT``, else https://huggingface.co. Revision ``main`` by default.
- ModelScope: ``https://www.modelscope.cn/models/{repo}/resolve/{revision}/{path}`` (the form
  the site's own download links take). Revision ``master`` by default.

Every part is checked (repository names as the sites allow them, no ``..`` or empty segment
in a path, revisions as git names them) and percent-encoded again before it goes into the URL,
so nothing a user typed changes the URL's host or escapes its path. The URL built here still
goes through ``rules.validate_download_url`` (the outbound address policy).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from hostfiles.models import DownloadSource

HUGGINGFACE = "https://huggingface.co"
HUGGINGFACE_HOSTS = ("huggingface.co", "www.huggingface.co", "hf.co")
MODELSCOPE = "https://www.modelscope.cn"
MODELSCOPE_HOSTS = ("modelscope.cn", "www.modelscope.cn")
DEFAULT_REVISIONS = {DownloadSource.HUGGINGFACE: "main", DownloadSource.MODELSCOPE: "master"}

# An owner or a repository name: letters, digits and ._-, starting and ending with a letter or
# a digit (both sites' rule), at most 96 characters.
REPOSITORY_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$")
REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
MAX_PATH_LENGTH = 500
MAX_PATH_DEPTH = 20
# What a Hugging Face URL has between the repository and the revision for a file.
HUGGINGFACE_FILE_VIEWS = ("resolve", "blob", "raw")


@dataclass(frozen=True)
class RepositoryFile:
    """One file of a repository on a model site, checked."""

    site: str
    repo: str
    path: str
    revision: str

    def url(self, huggingface_endpoint: str = "") -> str:
        """The file's download URL (on ``huggingface_endpoint`` for Hugging Face)."""
        path = "/".join(quote(part, safe="") for part in self.path.split("/"))
        revision = quote(self.revision, safe="")
        if self.site == DownloadSource.HUGGINGFACE:
            base = huggingface_base(huggingface_endpoint)
            return f"{base}/{self.repo}/resolve/{revision}/{path}"
        return f"{MODELSCOPE}/models/{self.repo}/resolve/{revision}/{path}"

    @property
    def filename(self) -> str:
        return self.path.rpartition("/")[2]


def huggingface_base(endpoint: str = "") -> str:
    """The team's endpoint, else the server's, else https://huggingface.co (no trailing /)."""
    return (endpoint or settings.NESTOPS_HUGGINGFACE_ENDPOINT or HUGGINGFACE).rstrip("/")


def _fail(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _printable(value: str) -> bool:
    return all(unicodedata.category(c)[0] != "C" for c in value)


def validate_repo(site: str, repo: str) -> str:
    """``owner/name`` (Hugging Face also takes a bare ``name`` and ``datasets/owner/name``)."""
    repo = repo.strip().strip("/")
    parts = repo.split("/")
    if site == DownloadSource.HUGGINGFACE and parts[0] == "datasets" and len(parts) == 3:
        names = parts[1:]
    elif site == DownloadSource.HUGGINGFACE and len(parts) == 1:
        names = parts
    else:
        names = parts if len(parts) == 2 else []
    if not names or any(not REPOSITORY_NAME.match(n) or ".." in n or "--" in n for n in names):
        raise _fail(
            _(
                "Give the repository as owner/name, e.g. stabilityai/stable-diffusion-xl-base-1.0 "
                "(letters, digits and ._-, starting and ending with a letter or a digit)."
            ),
            "invalid_repo",
        )
    return repo


def validate_revision(site: str, revision: str) -> str:
    """A branch, tag or commit; empty means the site's default branch."""
    revision = revision.strip() or DEFAULT_REVISIONS[DownloadSource(site)]
    if (
        not REVISION.match(revision)
        or ".." in revision
        or "//" in revision
        or revision.endswith(("/", ".", ".lock"))
        or "/." in revision
    ):
        raise _fail(
            _(
                "Use a revision made of letters, digits and ._/-, such as main, master, v1.0 or "
                "a commit hash."
            ),
            "invalid_revision",
        )
    return revision


def validate_repo_path(path: str) -> str:
    """A file's path inside its repository (``unet/model.safetensors``), without ``..``."""
    path = unicodedata.normalize("NFC", path.strip())
    parts = path.split("/")
    if not path:
        raise _fail(_("Give the file's path in the repository."), "file_required")
    if (
        len(path) > MAX_PATH_LENGTH
        or len(parts) > MAX_PATH_DEPTH
        or any(p in ("", ".", "..") for p in parts)
        or "\\" in path
        or not _printable(path)
    ):
        raise _fail(
            _(
                "Give the file's path in the repository, e.g. unet/model.safetensors: folders "
                "separated by '/', without '..', empty parts, backslashes or control characters."
            ),
            "invalid_file_path",
        )
    return path


def repository_file(*, site: str, repo: str, path: str, revision: str = "") -> RepositoryFile:
    """The checked file; raises a ``ValidationError`` keyed by field (repo, file, revision)."""
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for field, check in (
        ("repo", lambda: validate_repo(site, repo)),
        ("file", lambda: validate_repo_path(path)),
        ("revision", lambda: validate_revision(site, revision)),
    ):
        try:
            values[field] = check()
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)
    return RepositoryFile(site, values["repo"], values["file"], values["revision"])


def _segments(path: str) -> list[str]:
    """The URL path's segments, percent-decoded one by one (an encoded '/' stays inside its
    segment, where the path check refuses it)."""
    return [unquote(s) for s in path.split("/")[1:]]


def _not_a_file(site: str) -> ValidationError:
    label = DownloadSource(site).label
    return _fail(
        _(
            "This %(site)s address is not a file's: open the file on the site and copy its "
            "address or its download link, or give the repository and the file."
        )
        % {"site": label},
        "not_a_file",
    )


def _checked(site: str, repo: str, path: str, revision: str) -> RepositoryFile:
    try:
        return repository_file(site=site, repo=repo, path=path, revision=revision)
    except ValidationError as exc:
        raise _fail(
            _("This %(site)s address cannot be used: %(reason)s")
            % {"site": DownloadSource(site).label, "reason": " ".join(exc.messages)},
            "invalid_site_url",
        ) from None


def _huggingface_file(segments: list[str]) -> RepositoryFile:
    """``[datasets/]owner/name/{resolve|blob|raw}/rev/path…`` or ``name/{…}/rev/path…``."""
    prefix: list[str] = []
    if segments and segments[0] == "datasets":
        prefix, segments = ["datasets"], segments[1:]
    for length in (2, 1):
        if (
            len(segments) >= length + 3
            and segments[length] in HUGGINGFACE_FILE_VIEWS
            and not (prefix and length == 1)
        ):
            repo = "/".join(prefix + segments[:length])
            return _checked(
                DownloadSource.HUGGINGFACE,
                repo,
                "/".join(segments[length + 2 :]),
                segments[length + 1],
            )
    raise _not_a_file(DownloadSource.HUGGINGFACE)


def _modelscope_file(segments: list[str], query: str) -> RepositoryFile:
    site = DownloadSource.MODELSCOPE
    fields = parse_qs(query)
    if segments[:2] == ["api", "v1"] and len(segments) == 6 and segments[2] == "models":
        # /api/v1/models/{owner}/{name}/repo?Revision=…&FilePath=… (the SDK's form)
        if segments[5] == "repo" and fields.get("FilePath"):
            revision = (fields.get("Revision") or [""])[0]
            return _checked(site, "/".join(segments[3:5]), fields["FilePath"][0], revision)
        raise _not_a_file(site)
    if segments[:1] != ["models"] or len(segments) < 5:
        raise _not_a_file(site)
    repo = "/".join(segments[1:3])
    rest = segments[3:]
    if rest[0] == "resolve" and len(rest) >= 3:
        return _checked(site, repo, "/".join(rest[2:]), rest[1])
    if rest[:2] == ["file", "view"] and len(rest) >= 3:
        # /file/view/{rev}/{path} or /file/view/{rev}?fileName={path}
        if len(rest) >= 4:
            return _checked(site, repo, "/".join(rest[3:]), rest[2])
        if fields.get("fileName"):
            return _checked(site, repo, fields["fileName"][0], rest[2])
    raise _not_a_file(site)


def _on_endpoint(parts, endpoint: str) -> list[str] | None:
    """The path segments below the Hugging Face endpoint if the URL is on it, else None."""
    base = urlsplit(endpoint)
    if (
        parts.scheme != base.scheme
        or (parts.hostname or "").lower() != (base.hostname or "").lower()
        or parts.port != base.port
    ):
        return None
    prefix = base.path.rstrip("/")
    if prefix and not (parts.path == prefix or parts.path.startswith(prefix + "/")):
        return None
    return _segments(parts.path[len(prefix) :])


def site_file(url: str, huggingface_endpoint: str = "") -> RepositoryFile | None:
    """The repository file a Hugging Face or ModelScope URL names (a page or a download link;
    on huggingface.co or on the Hugging Face endpoint); ``None`` for any other site. A URL of
    those sites that names no file is a ``ValidationError``."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or parts.username or parts.password:
        return None
    if host in HUGGINGFACE_HOSTS and port in (None, 443):
        return _huggingface_file(_segments(parts.path))
    if host in MODELSCOPE_HOSTS and port in (None, 443):
        return _modelscope_file(_segments(parts.path), parts.query)
    endpoint = huggingface_base(huggingface_endpoint)
    if endpoint != HUGGINGFACE:
        segments = _on_endpoint(parts, endpoint)
        if segments is not None:
            return _huggingface_file(segments)
    return None


@dataclass(frozen=True)
class ResolvedDownload:
    """Where a download comes from: the URL the host fetches, and the repository file it is
    when it is one (``None`` for a plain URL)."""

    url: str
    file: RepositoryFile | None


def resolve(
    *,
    url: str = "",
    source: str = "",
    repo: str = "",
    file: str = "",
    revision: str = "",
    huggingface_endpoint: str = "",
) -> ResolvedDownload:
    """Either ``url`` (a Hugging Face or ModelScope file URL becomes its download URL on the
    right endpoint; any other URL stays as it is) or ``source`` + ``repo`` + ``file`` (+
    ``revision``). Raises a ``ValidationError`` keyed by field. The address policy is the
    caller's next check."""
    url = url.strip()
    named = any(v.strip() for v in (source, repo, file, revision))
    if url and named:
        raise ValidationError(
            {
                "url": [
                    _(
                        "Give either the URL, or the source with the repository and the file, "
                        "not both."
                    )
                ]
            }
        )
    if url:
        try:
            found = site_file(url, huggingface_endpoint)
        except ValidationError as exc:
            raise ValidationError({"url": exc.messages}) from None
        if found is None:
            return ResolvedDownload(url, None)
        return ResolvedDownload(found.url(huggingface_endpoint), found)
    if not named:
        raise ValidationError(
            {"url": [_("Give the URL of the file, or the source, the repository and the file.")]}
        )
    if source not in DownloadSource.values:
        raise ValidationError(
            {
                "source": [
                    _("Choose the site of the repository: %(sites)s.")
                    % {"sites": ", ".join(DownloadSource.values)}
                ]
            }
        )
    found = repository_file(site=source, repo=repo, path=file, revision=revision)
    return ResolvedDownload(found.url(huggingface_endpoint), found)
