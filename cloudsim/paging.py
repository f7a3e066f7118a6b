"""Both paging styles of the cloud: PageNumber/PageSize and NextToken/MaxResults.

Tokens are opaque to callers; inside they hold the position after which the next page starts
(an instance's creation sequence number, or an offset).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TypeVar

from cloudsim.errors import invalid
from cloudsim.params import Params

Item = TypeVar("Item")


def encode_token(position: str) -> str:
    return base64.urlsafe_b64encode(f"cloudsim:{position}".encode()).decode().rstrip("=")


def decode_token(token: str, name: str = "NextToken") -> str:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise invalid(name, "It is not a token this API returned.") from None
    if not raw.startswith("cloudsim:"):
        raise invalid(name, "It is not a token this API returned.")
    return raw[len("cloudsim:") :]


def decode_offset(token: str | None, name: str = "NextToken") -> int:
    if not token:
        return 0
    position = decode_token(token, name)
    if not position.isdigit():
        raise invalid(name, "It is not a token this API returned.")
    return int(position)


def uses_tokens(params: Params) -> bool:
    return "NextToken" in params or "MaxResults" in params


def page_by_number(
    params: Params, items: Sequence[Item], *, default_size: int = 10, max_size: int = 100
) -> tuple[list[Item], int, int]:
    """Returns (page, page number, page size)."""
    number = params.integer("PageNumber", default=1, minimum=1, maximum=10**9)
    size = params.integer("PageSize", default=default_size, minimum=1, maximum=max_size)
    assert number is not None and size is not None
    start = (number - 1) * size
    return list(items[start : start + size]), number, size


def page_by_offset_token(
    params: Params,
    items: Sequence[Item],
    *,
    default_size: int = 10,
    max_size: int = 100,
    minimum: int = 1,
) -> tuple[list[Item], str]:
    """Returns (page, next token or "" at the end) for offset-based tokens."""
    size = params.integer("MaxResults", default=default_size, minimum=minimum, maximum=max_size)
    assert size is not None
    start = decode_offset(params.text("NextToken"))
    page = list(items[start : start + size])
    following = start + size
    return page, encode_token(str(following)) if following < len(items) else ""
