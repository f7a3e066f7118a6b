"""Rules for what users may put on a host: model URLs, file names, folders, extensions, tokens.

The API serializers, the services and the operation handlers all call these, so a value that
slipped past one layer is refused by the next; the host scripts check paths once more on the
host. Each check raises ``django.core.exceptions.ValidationError`` with a message saying what
is wrong and what would be right.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from hostfiles.models import MODEL_FOLDERS, TOKEN_PROVIDER_DOMAINS, ModelKind, TokenProvider
from nestops import addresses
from nestops.url_credentials import redact_url as redact_credentials

MAX_URL_LENGTH = 2000
MAX_FILENAME_BYTES = 200
# Letters and digits of any script, then a few separators; no quotes, slashes, shell or glob
# characters. Scripts quote every value anyway: this keeps names readable and portable.
FILENAME = re.compile(r"^[^\W_][\w .()+\[\]-]*$")
FOLDER_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$")
MAX_FOLDER_DEPTH = 3
SHA256 = re.compile(r"^[0-9a-f]{64}$")
EXTENSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
GIT_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
REPOSITORY_PART = re.compile(r"^[A-Za-z0-9._~-]+$")
TOKEN = re.compile(r"^[A-Za-z0-9._~+/=:-]{8,512}$")
# Parallel connections per download (download_model.sh's CONNECTIONS takes the same bounds).
MIN_CONNECTIONS = 1
MAX_CONNECTIONS = 16


def _fail(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _printable(value: str) -> bool:
    return all(unicodedata.category(c)[0] != "C" for c in value)


# --- model files -----------------------------------------------------------------------------


# Images in a model folder are the WebUI's card previews (x.png or x.preview.png next to
# x.safetensors): a download may bring one, the inventory counts it as a preview, not a model.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")


def allowed_extensions() -> list[str]:
    return list(settings.NESTOPS_MODEL_EXTENSIONS)


def model_extensions() -> list[str]:
    """Suffixes of the files that are models (the allowed ones but images)."""
    return [e for e in allowed_extensions() if e not in IMAGE_EXTENSIONS]


def is_image(path: str) -> bool:
    return path.lower().endswith(IMAGE_EXTENSIONS)


def preview_candidates(path: str) -> list[str]:
    """Where a model's card preview may be, in the order the inventory looks (inventory.sh):
    ``x.preview.png`` … ``x.webp`` next to ``x.safetensors``."""
    stem = path.rpartition(".")[0] if "." in path.rpartition("/")[2] else path
    return [
        f"{stem}{middle}{suffix}"
        for middle in (".preview.", ".")
        for suffix in ("png", "jpg", "jpeg", "webp")
    ]


def preview_stem(path: str) -> str:
    """``folder/x`` for ``folder/x.png`` or ``folder/x.preview.png``: the model it shows."""
    stem = path.rpartition(".")[0]
    return stem[: -len(".preview")] if stem.endswith(".preview") else stem


def validate_filename(name: str) -> str:
    """A model file name such as ``detail-tweaker_v1.safetensors``; returns it NFC-normalised."""
    name = unicodedata.normalize("NFC", name.strip())
    if not name:
        raise _fail(_("Give the file name."), "filename_required")
    if (
        not _printable(name)
        or not FILENAME.match(name)
        or name.endswith((" ", "."))
        or len(name.encode("utf-8")) > MAX_FILENAME_BYTES
    ):
        raise _fail(
            _(
                "Use a file name of at most %(max)d bytes made of letters, digits, spaces and "
                "._-()+[], starting with a letter or a digit, such as model_v1.safetensors."
            )
            % {"max": MAX_FILENAME_BYTES},
            "invalid_filename",
        )
    extension = "." + name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in allowed_extensions():
        raise _fail(
            _("The file must end with one of %(extensions)s.")
            % {"extensions": ", ".join(allowed_extensions())},
            "invalid_extension",
        )
    return name


def filename_from_url(url: str) -> str:
    """The URL's last path segment if it is a valid model file name, else ``""``."""
    segment = unquote(urlsplit(url).path.rpartition("/")[2])
    try:
        return validate_filename(segment)
    except ValidationError:
        return ""


def model_folder(kind: str, directory: str = "") -> str:
    """The folder (relative to the WebUI directory) a file of ``kind`` goes to.

    ``directory`` is a sub-folder of the kind's folder, or for ``other`` a folder relative to
    the WebUI directory (as Compute Nest's "storage directory"), which must lie under
    ``models/`` or ``embeddings/`` so that the WebUI and the inventory find the file.
    """
    if kind not in ModelKind.values:
        raise _fail(
            _("Choose one of %(kinds)s.") % {"kinds": ", ".join(ModelKind.values)}, "invalid_kind"
        )
    directory = directory.strip().rstrip("/")
    parts = directory.split("/") if directory else []
    if (
        any(not FOLDER_PART.match(p) or p.endswith((".", " ")) for p in parts)
        or len(parts) > MAX_FOLDER_DEPTH
    ):
        raise _fail(
            _(
                "Use up to %(depth)d folder names separated by '/', each made of letters, "
                "digits, spaces and ._- and starting with a letter or a digit."
            )
            % {"depth": MAX_FOLDER_DEPTH},
            "invalid_directory",
        )
    if kind == ModelKind.OTHER:
        if not parts:
            raise _fail(
                _("Give the folder relative to the WebUI directory, e.g. models/LyCORIS."),
                "directory_required",
            )
        if parts[0] not in ("models", "embeddings") or parts == ["models"]:
            raise _fail(
                _(
                    "Other model files go in a folder under models/ or embeddings/ of the "
                    "WebUI, e.g. models/LyCORIS."
                ),
                "directory_outside_models",
            )
        return "/".join(parts)
    return "/".join([MODEL_FOLDERS[kind], *parts])


def kind_of_path(path: str) -> str:
    """The kind of a file found at ``path`` (relative to the WebUI directory)."""
    folder = path.rpartition("/")[0]
    for kind, base in MODEL_FOLDERS.items():
        if folder == base or folder.startswith(base + "/"):
            return kind
    return ModelKind.OTHER


def validate_model_path(path: str) -> str:
    """The path of a file already on the host, relative to the WebUI directory.

    Looser than ``validate_filename``: files put there by other means may have any printable
    name; they must still lie under ``models/`` or ``embeddings/`` without ``..``.
    """
    parts = path.split("/")
    if (
        len(parts) < 2
        or parts[0] not in ("models", "embeddings")
        or any(p in ("", ".", "..") for p in parts)
        or not _printable(path)
        or len(path) > 500
    ):
        raise _fail(_("Model files live under models/ or embeddings/ (no '..')."), "invalid_path")
    return path


def validate_sha256(value: str) -> str:
    value = value.strip().lower()
    if value and not SHA256.match(value):
        raise _fail(_("Give the SHA-256 as 64 hexadecimal characters."), "invalid_sha256")
    return value


def download_schemes() -> tuple[str, ...]:
    """https only; http too where private sources are allowed (in-house mirrors, tests)."""
    return ("https", "http") if settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS else ("https",)


def address_error(exc: addresses.AddressRefused, setting: str) -> ValidationError:
    """The translated message for a URL the outbound address policy refuses."""
    messages = {
        "forbidden": _(
            "%(host)s is a metadata or link-local address: nestops never sends requests there."
        ),
        "private": _("%(host)s is a loopback or private address, allowed only with %(setting)s."),
        "scheme": _("Use an https:// URL (http:// only where %(setting)s is on)."),
        "credentials": _(
            "The URL carries a user name or password. Remove it and store the site's token "
            "as a team model site token instead."
        ),
        "spelling": _(
            "Write the host of the URL as a plain name or a dotted address, without trailing "
            "dots, percent-encoding or numeric shorthand."
        ),
    }
    message = messages.get(exc.code, _("This is not a valid URL."))
    host = str(exc).partition(" ")[0]
    code = {
        "credentials": "credentials_in_url",
        "forbidden": "forbidden_host",
        "private": "forbidden_host",
    }.get(exc.code, "invalid_url")
    return _fail(message % {"host": host, "setting": setting}, code)


def validate_download_url(url: str) -> str:
    """An http(s) URL the outbound address policy allows; returns it without its fragment.

    Credentials in its query string (a presigned link) are accepted: the caller stores the URL
    encrypted and keeps ``redact_url(url)`` everywhere else.
    """
    url = url.strip()
    if not url:
        raise _fail(_("Give the URL of the file."), "url_required")
    if len(url) > MAX_URL_LENGTH or not url.isascii() or not url.isprintable() or " " in url:
        raise _fail(
            _(
                "Use a URL of at most %(max)d characters without spaces; percent-encode other "
                "characters (as a browser's 'copy link' does)."
            )
            % {"max": MAX_URL_LENGTH},
            "invalid_url",
        )
    try:
        addresses.check_url(
            url,
            allow_private=settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS,
            schemes=download_schemes(),
        )
    except addresses.AddressRefused as exc:
        raise address_error(exc, "NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS") from None
    return url.partition("#")[0]


def _same_origin(url: str, base: str) -> bool:
    """``url`` is on ``base``: same scheme, host and port, below its path."""
    try:
        parts, origin = urlsplit(url), urlsplit(base)
        same = (parts.scheme, parts.hostname, parts.port) == (
            origin.scheme,
            origin.hostname,
            origin.port,
        )
    except ValueError:
        return False
    prefix = origin.path.rstrip("/")
    return same and (not prefix or parts.path == prefix or parts.path.startswith(prefix + "/"))


def token_provider_for(url: str) -> str:
    """The model site whose token goes with a download from ``url`` (``""`` for none).

    A site's token goes to its own host names and their subdomains; the Hugging Face token
    also goes to the server's ``NESTOPS_HUGGINGFACE_ENDPOINT``, a mirror the operator chose
    (it needs the token to fetch gated repositories). A mirror a team set gets no token: a team
    admin could otherwise read the token, which is never shown back, by pointing the team's
    endpoint at a server of theirs.
    """
    host = (urlsplit(url).hostname or "").lower()
    for provider, domains in TOKEN_PROVIDER_DOMAINS.items():
        if any(host == d or host.endswith("." + d) for d in domains):
            return provider
    endpoint = settings.NESTOPS_HUGGINGFACE_ENDPOINT
    if endpoint and _same_origin(url, endpoint):
        return TokenProvider.HUGGINGFACE
    return ""


def validate_connections(value: int | str | None) -> int | None:
    """Parallel connections per download: 1 to 16, or ``None`` (the server's default)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if isinstance(value, bool) or not MIN_CONNECTIONS <= number <= MAX_CONNECTIONS:
        raise _fail(
            _("Give a number of connections from %(min)d to %(max)d.")
            % {"min": MIN_CONNECTIONS, "max": MAX_CONNECTIONS},
            "invalid_connections",
        )
    return number


def validate_endpoint(value: str) -> str:
    """A Hugging Face endpoint (a mirror serving huggingface.co's paths, such as
    https://hf-mirror.com): an https:// URL (http:// only with private URLs allowed) without
    credentials, query or fragment, that the outbound address policy allows; no trailing /."""
    value = value.strip().rstrip("/")
    if not value:
        return ""
    try:
        addresses.check_url(
            value + "/",
            allow_private=settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS,
            schemes=download_schemes(),
        )
    except addresses.AddressRefused as exc:
        raise _fail(
            _("This endpoint cannot be used: %(reason)s.") % {"reason": exc}, "invalid_endpoint"
        ) from None
    parts = urlsplit(value)
    if parts.query or parts.fragment or len(value) > 300 or not value.isascii():
        raise _fail(
            _("Give the endpoint's address, e.g. https://hf-mirror.com."), "invalid_endpoint"
        )
    return value


def validate_token(value: str) -> str:
    value = value.strip()
    if not TOKEN.match(value):
        raise _fail(
            _(
                "A token is 8 to 512 characters: letters, digits and ._~+/=:-, as the site "
                "shows it."
            ),
            "invalid_token",
        )
    return value


# --- extensions ------------------------------------------------------------------------------


def validate_extension_url(url: str) -> str:
    """A git repository URL on an allowed host; returns it normalised (no trailing slash)."""
    url = url.strip()
    hosts = settings.NESTOPS_EXTENSION_HOSTS
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise _fail(_("This is not a valid URL."), "invalid_url") from None
    if (
        len(url) > 500
        or not url.isascii()
        or not url.isprintable()
        or parts.scheme not in ("http", "https")
        or not parts.hostname
    ):
        raise _fail(
            _("Use the https:// URL of the repository, e.g. https://github.com/owner/name."),
            "invalid_url",
        )
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise _fail(
            _("Use the plain repository URL, without credentials, query or fragment."),
            "invalid_url",
        )
    if parts.hostname.lower() not in hosts:
        raise _fail(
            _("Extensions may be installed from %(hosts)s only (NESTOPS_EXTENSION_HOSTS).")
            % {"hosts": ", ".join(hosts)},
            "forbidden_host",
        )
    segments = [s for s in parts.path.split("/") if s]
    if (
        not segments
        or any(not REPOSITORY_PART.match(s) or s in (".", "..") for s in segments)
        or (parts.hostname.lower() == "github.com" and len(segments) != 2)
    ):
        raise _fail(
            _("Use the repository's URL, e.g. https://github.com/owner/name."),
            "invalid_url",
        )
    if parts.port not in (None, 443) and not settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS:
        raise _fail(_("Use the repository's https:// URL on the usual port (443)."), "invalid_url")
    try:
        addresses.check_url(
            url,
            allow_private=settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS,
            schemes=download_schemes(),
        )
    except addresses.AddressRefused as exc:
        raise address_error(exc, "NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS") from None
    return f"{parts.scheme}://{parts.netloc}/{'/'.join(segments)}"


def extension_name_from_url(url: str) -> str:
    name = urlsplit(url).path.rstrip("/").rpartition("/")[2]
    return name[: -len(".git")] if name.endswith(".git") else name


def validate_extension_name(name: str) -> str:
    name = name.strip()
    if not EXTENSION_NAME.match(name) or name.endswith(".") or name.lower().endswith(".git"):
        raise _fail(
            _(
                "Use an extension folder name of letters, digits and ._- (up to 100), starting "
                "with a letter or a digit."
            ),
            "invalid_name",
        )
    return name


def validate_git_ref(ref: str) -> str:
    """A branch, tag or commit; empty means the repository's default branch."""
    ref = ref.strip()
    if ref and (
        not GIT_REF.match(ref)
        or ".." in ref
        or "//" in ref
        or ref.endswith(("/", ".", ".lock"))
        or "/." in ref
    ):
        raise _fail(
            _("Use a branch, tag or commit name such as main, v1.2.0 or a commit hash."),
            "invalid_ref",
        )
    return ref


def clone_url(url: str, mirror: str | None = None) -> str:
    """Where the host clones from: GitHub URLs go through the team's ``mirror`` when given,
    else through NESTOPS_GITHUB_MIRROR when it is set."""
    mirror = mirror or settings.NESTOPS_GITHUB_MIRROR
    if mirror and (urlsplit(url).hostname or "").lower() == "github.com":
        return mirror + url
    return url


def validate_mirror(value: str) -> str:
    """A mirror prefix: an https:// URL (http:// only with private URLs allowed) without
    credentials, query or fragment, that the outbound address policy allows; ends with ``/``."""
    value = value.strip()
    if not value:
        return ""
    if not value.endswith("/"):
        value += "/"
    schemes = ("http", "https") if settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS else ("https",)
    try:
        addresses.check_url(
            value, allow_private=settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS, schemes=schemes
        )
    except addresses.AddressRefused as exc:
        raise _fail(
            _("This mirror cannot be used: %(reason)s.") % {"reason": exc}, "invalid_mirror"
        ) from None
    parts = urlsplit(value)
    if parts.query or parts.fragment or len(value) > 300:
        raise _fail(_("Give the mirror's prefix, e.g. https://ghproxy.example/."), "invalid_mirror")
    return value


def redact_url(url: str) -> str:
    """The URL without a user name, password or credential query values (remotes found on
    hosts may carry them)."""
    return redact_credentials(url)
