"""The API's JSON parser: a body too large or nested too deep is a 400 in the common error
shape, read before any of it is decoded (a 100,000-deep ``[[[…`` never reaches ``json``)."""

from __future__ import annotations

import codecs
import json
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text (brackets inside strings do
    not count)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.NESTOPS_API_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise ParseError(_("The body is larger than %(limit)d bytes.") % {"limit": limit})
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(
                _("The body is not valid %(encoding)s.") % {"encoding": encoding}
            ) from exc
        depth_limit = settings.NESTOPS_API_MAX_JSON_DEPTH
        if nesting_depth(text) > depth_limit:
            raise ParseError(
                _("The JSON body is nested deeper than %(depth)d levels.") % {"depth": depth_limit}
            )
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except ValueError as exc:
            raise ParseError(_("The body is not valid JSON: %(error)s") % {"error": exc}) from exc


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")
