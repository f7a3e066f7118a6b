"""Resource tags: ``Tag.N.Key``/``Tag.N.Value`` in requests, two spellings in responses.

ECS answers ``{"TagKey", "TagValue"}``, VPC answers ``{"Key", "Value"}``; both filter
Describe calls by every given tag (a tag given without a value matches any value).
"""

from __future__ import annotations

from cloudsim.errors import CloudError
from cloudsim.params import Params

MAX_TAGS = 20


def read_tags(params: Params, prefix: str = "Tag") -> list[list[str]]:
    """Tags of a create call, validated: keys 1-128 characters, no ``aliyun``/``acs:`` prefix."""
    tags: list[list[str]] = []
    seen: set[str] = set()
    for index, raw in enumerate(params.structs(prefix, max_items=MAX_TAGS), start=1):
        key = raw.get("Key", "")
        value = raw.get("Value", "")
        if (
            not key
            or len(key) > 128
            or key.lower().startswith(("aliyun", "acs:", "http://", "https://"))
        ):
            raise CloudError(
                "InvalidTagKey.Malformed",
                f'The specified parameter "{prefix}.{index}.Key" is not valid.',
                400,
            )
        if len(value) > 128 or value.lower().startswith(("http://", "https://")):
            raise CloudError(
                "InvalidTagValue.Malformed",
                f'The specified parameter "{prefix}.{index}.Value" is not valid.',
                400,
            )
        if key in seen:
            raise CloudError(
                "InvalidParameter.TagKeyDuplicate", f"The tag key {key!r} is given twice.", 400
            )
        seen.add(key)
        tags.append([key, value])
    return tags


def read_tag_filter(params: Params, prefix: str = "Tag") -> list[tuple[str, str | None]]:
    """Tag filters of a Describe call: (key, value or None for any value)."""
    found: list[tuple[str, str | None]] = []
    for raw in params.structs(prefix, max_items=MAX_TAGS):
        key = raw.get("Key")
        if key:
            found.append((key, raw.get("Value") or None))
    return found


def matches(tags: list[list[str]], wanted: list[tuple[str, str | None]]) -> bool:
    if not wanted:
        return True
    have = dict(tags)
    return all(key in have and (value is None or have[key] == value) for key, value in wanted)


def ecs_view(tags: list[list[str]]) -> dict[str, list[dict[str, str]]]:
    return {"Tag": [{"TagKey": key, "TagValue": value} for key, value in tags]}


def vpc_view(tags: list[list[str]]) -> dict[str, list[dict[str, str]]]:
    return {"Tag": [{"Key": key, "Value": value} for key, value in tags]}
