"""The outbound address policy: which URLs nestops may fetch or post to, or ask a host to fetch.

Webhooks, model downloads, extension clones and every redirect hop go through this module and
no other classifier. It normalises every spelling of a host before classifying it (IPv4 in
decimal, hex, octal or short forms as inet_aton reads them; IPv6 that wraps IPv4: mapped,
compatible, NAT64, 6to4, Teredo; percent-encoding, IDNA, trailing dots; ``localhost``-ish
names and names from /etc/hosts), refuses spellings that different clients read differently,
and checks every address a name resolves to at connect time (``resolve``).

It uses the standard library only: the download script runs this very file with the host's
python3 to check each hop where the host resolves it (``python3 - URL ALLOW_PRIVATE
ALLOW_HTTP`` prints ``HOST PORT ADDRESS`` or exits 3 with the reason).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import sys
from enum import Enum
from typing import NamedTuple, Union
from urllib.parse import unquote, urlsplit

# typing.Union: the host may run a python3 older than 3.10.
Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]  # noqa: UP007

# Alibaba Cloud's instance metadata service hands out the host's RAM role credentials; AWS's
# IPv6 one too. Link-local ranges cover the other clouds'.
METADATA_ADDRESSES = {
    ipaddress.ip_address("100.100.100.200"),
    ipaddress.ip_address("fd00:ec2::254"),
}
METADATA_NAMES = {"metadata", "metadata.google.internal", "metadata.tencentyun.com"}
# Carrier-grade NAT space: Alibaba Cloud's own services (DNS, NTP, metadata) live in it.
SHARED_SPACE = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")
LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?$")
HOSTS_FILE = "/etc/hosts"


class HostKind(Enum):
    PUBLIC = "public"
    PRIVATE = "private"  # loopback, RFC 1918, shared and other non-global ranges
    FORBIDDEN = "forbidden"  # metadata services, link-local, multicast


STRICTNESS = [HostKind.PUBLIC, HostKind.PRIVATE, HostKind.FORBIDDEN]


class AddressRefused(ValueError):
    """A URL or address the policy refuses; ``code`` says why (``forbidden``, ``private``,
    ``scheme``, ``spelling``, ``invalid``, ``credentials``, ``unresolved``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Target(NamedTuple):
    """Where a checked URL goes: the scheme, the normalised host and the port."""

    scheme: str
    host: str
    port: int
    kind: HostKind


def _strictest(kinds: list[HostKind]) -> HostKind:
    return max(kinds, key=STRICTNESS.index)


def parse_ipv4(text: str) -> ipaddress.IPv4Address | None:
    """An IPv4 address in any form inet_aton accepts (``127.1``, ``0x7f.1``, ``017700000001``,
    ``2130706433``), else None."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        try:
            if re.fullmatch(r"0[xX][0-9a-fA-F]*", part):
                numbers.append(int(part[2:] or "0", 16))
            elif re.fullmatch(r"0[0-7]+", part):
                numbers.append(int(part, 8))
            elif re.fullmatch(r"[0-9]+", part):
                numbers.append(int(part, 10))
            else:
                return None
        except ValueError:
            return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, translated, compatible, NAT64,
    6to4, Teredo): connecting to it may reach them."""
    found = []
    low = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address in IPV4_TRANSLATED or address in NAT64 or address in NAT64_LOCAL:
        found.append(low)
    if int(address) >> 32 == 0 and int(address) > 1:
        found.append(low)  # IPv4-compatible ::a.b.c.d
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


def address_kind(address: Address) -> HostKind:
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(address.compressed.partition("%")[0])
        inner = embedded_ipv4(address)
        if inner:
            kinds = [address_kind(a) for a in inner]
            if address in NAT64_LOCAL:
                kinds.append(HostKind.PRIVATE)
            return _strictest(kinds)
    if address in METADATA_ADDRESSES or address.is_link_local or address.is_multicast:
        return HostKind.FORBIDDEN
    if isinstance(address, ipaddress.IPv4Address) and (
        address in SHARED_SPACE or address == ipaddress.IPv4Address("255.255.255.255")
    ):
        return HostKind.PRIVATE
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return HostKind.PRIVATE
    if not address.is_global or address.is_private or address.is_unspecified:
        return HostKind.PRIVATE
    return HostKind.PUBLIC


def normalise_host(host: str) -> str:
    """The host as a resolver sees it: percent-decoded, IDNA-encoded, lower case, without
    brackets, zone or trailing dots. Raises ``AddressRefused`` when it cannot be read."""
    text = unquote(host).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        text = text.encode("idna").decode("ascii") if not text.isascii() else text
    except UnicodeError:
        raise AddressRefused("invalid", f"{host!r} is not a host name") from None
    return text.lower().rstrip(".")


def literal_address(host: str) -> Address | None:
    """The address a normalised host names literally, in any spelling, else None."""
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.partition("%")[0])
        except ValueError:
            return None
    return parse_ipv4(host)


def _hosts_file_kind(name: str) -> HostKind | None:
    """The strictest kind of the addresses /etc/hosts gives ``name``, if it lists it."""
    kinds = []
    try:
        with open(HOSTS_FILE, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                fields = line.partition("#")[0].split()
                if len(fields) >= 2 and name in (f.lower().rstrip(".") for f in fields[1:]):
                    address = literal_address(fields[0].lower())
                    kinds.append(address_kind(address) if address else HostKind.PRIVATE)
    except OSError:
        return None
    return _strictest(kinds) if kinds else None


def host_kind(host: str) -> HostKind:
    """What kind of address ``host`` (any spelling, a URL's host part) is. Names are public
    unless they are local by name, metadata names or listed in /etc/hosts; ``resolve`` checks
    what they resolve to when connecting."""
    try:
        name = normalise_host(host)
    except AddressRefused:
        return HostKind.FORBIDDEN
    address = literal_address(name)
    if address is not None:
        return address_kind(address)
    if name in METADATA_NAMES:
        return HostKind.FORBIDDEN
    if not all(LABEL.match(label) for label in name.split(".")):
        # Not a name a resolver looks up: what a glob or a list in it would expand to.
        pieces = [p for p in re.split(r"[^a-z0-9._:-]+", name) if p and p != name]
        return _strictest([HostKind.PRIVATE, *(host_kind(p) for p in pieces)])
    if not name or name in LOCAL_NAMES or name.endswith(LOCAL_SUFFIXES):
        return HostKind.PRIVATE
    return _hosts_file_kind(name) or HostKind.PUBLIC


def allowed(kind: HostKind, *, allow_private: bool) -> bool:
    return kind is HostKind.PUBLIC or (kind is HostKind.PRIVATE and allow_private)


def refusal(kind: HostKind, host: str) -> AddressRefused:
    if kind is HostKind.FORBIDDEN:
        return AddressRefused("forbidden", f"{host} is a metadata, link-local or multicast address")
    return AddressRefused("private", f"{host} is a loopback or private address")


def _canonical(raw: str, name: str) -> bool:
    """Whether the host is written the one way every client reads the same."""
    address = literal_address(name)
    if isinstance(address, ipaddress.IPv4Address):
        return raw == str(address)
    if isinstance(address, ipaddress.IPv6Address):
        # IPv4 written as IPv6 (::ffff:a.b.c.d, ::a.b.c.d): write it as IPv4.
        carries_ipv4 = address.ipv4_mapped or address in IPV4_TRANSLATED or int(address) >> 32 == 0
        return raw == f"[{name}]" and "%" not in name and not (carries_ipv4 and int(address) > 1)
    labels = name.split(".")
    return (
        raw == name
        and len(name) <= 253
        and all(LABEL.match(label) for label in labels)
        and not re.fullmatch(r"[0-9]+|0x[0-9a-f]*", labels[-1])
    )


def check_url(url: str, *, allow_private: bool, schemes: tuple[str, ...] = ("https",)) -> Target:
    """The target of ``url`` if the policy lets nestops (or a host) reach it; raises
    ``AddressRefused`` otherwise. The address a name resolves to is checked by ``resolve``."""
    if not url.isascii() or not url.isprintable() or any(c in url for c in " \\\t"):
        raise AddressRefused("invalid", "the URL has spaces, backslashes or other characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AddressRefused("invalid", "this is not a valid URL") from None
    if parts.scheme.lower() not in schemes:
        raise AddressRefused("scheme", f"only {' and '.join(schemes)} URLs are allowed")
    if "@" in parts.netloc:
        raise AddressRefused("credentials", "the URL carries a user name or password")
    raw = parts.netloc.lower()
    if port is not None or raw.endswith(":"):
        raw = raw.rpartition(":")[0]
    if not raw or port == 0:
        raise AddressRefused("invalid", "this is not a valid URL")
    name = normalise_host(raw)
    kind = host_kind(name)
    if not allowed(kind, allow_private=allow_private):
        raise refusal(kind, name)
    if not _canonical(raw, name):
        raise AddressRefused(
            "spelling",
            f"write the host {raw} as a plain name or dotted address (such as {name})",
        )
    scheme = parts.scheme.lower()
    return Target(scheme, name, port or (443 if scheme == "https" else 80), kind)


def resolve(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to for ``host``: every address it resolves to must be allowed
    (a name with one private address among public ones is refused). Raises ``AddressRefused``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise AddressRefused("unresolved", f"{host} does not resolve") from None
    addresses = [str(info[4][0]) for info in infos]
    for text in addresses:
        kind = address_kind(ipaddress.ip_address(text.partition("%")[0]))
        if not allowed(kind, allow_private=allow_private):
            raise refusal(kind, f"{host} ({text})")
    if not addresses:
        raise AddressRefused("unresolved", f"{host} does not resolve")
    return addresses[0]


def check_peer(address: str, *, allow_private: bool) -> None:
    """Raises ``AddressRefused`` unless a socket connected to ``address`` is allowed."""
    kind = address_kind(ipaddress.ip_address(address.partition("%")[0]))
    if not allowed(kind, allow_private=allow_private):
        raise refusal(kind, address)


def main(argv: list[str]) -> int:
    """On a host: ``URL ALLOW_PRIVATE(0|1) ALLOW_HTTP(0|1)`` -> ``HOST PORT ADDRESS``."""
    url, allow_private, allow_http = argv[0], argv[1] == "1", argv[2] == "1"
    try:
        target = check_url(
            url,
            allow_private=allow_private,
            schemes=("https", "http") if allow_http else ("https",),
        )
        address = resolve(target.host, target.port, allow_private=allow_private)
    except AddressRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 3
    print(target.host, target.port, address)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
