"""What kind of address a URL's host is, for URLs users give (downloads, webhooks)."""

from __future__ import annotations

import ipaddress
from enum import Enum

# Alibaba Cloud's instance metadata service; link-local ranges cover the other clouds'.
METADATA_ADDRESSES = {ipaddress.ip_address("100.100.100.200")}


class HostKind(Enum):
    PUBLIC = "public"
    PRIVATE = "private"  # loopback, RFC 1918 and other non-global ranges
    FORBIDDEN = "forbidden"  # metadata services, link-local, multicast


def host_kind(host: str) -> HostKind:
    """Classifies a host written as an IP address (names are taken as public: they are
    resolved later, by whoever connects)."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        if host == "localhost" or host.endswith(".localhost"):
            return HostKind.PRIVATE
        return HostKind.PUBLIC
    if address in METADATA_ADDRESSES or address.is_link_local or address.is_multicast:
        return HostKind.FORBIDDEN
    if address.is_loopback or address.is_private or address.is_unspecified:
        return HostKind.PRIVATE
    return HostKind.PUBLIC
