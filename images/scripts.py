"""The bootstrap script, rendered with its arguments exported first as quoted shell words (the
convention of operations/scripts.py: user values are data, never code)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

BOOTSTRAP = Path(__file__).resolve().parent / "scripts" / "bootstrap.sh"
ARGUMENT_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,40}$")
RESULT_PREFIX = "NESTOPS_RESULT "


def render_bootstrap(arguments: dict[str, str | int]) -> str:
    lines = ["#!/bin/bash"]
    for key, value in arguments.items():
        if not ARGUMENT_NAME.match(key):
            raise ValueError(f"bad script argument name {key!r}")
        text = str(value)
        if "\x00" in text:
            raise ValueError(f"script argument {key} contains a NUL character")
        lines.append(f"export NESTOPS_ARG_{key}={shlex.quote(text)}")
    return "\n".join(lines) + "\n" + BOOTSTRAP.read_text(encoding="utf-8")


def result_of(output: str) -> dict[str, Any] | None:
    """The last ``NESTOPS_RESULT {...}`` line of a script's output."""
    found: dict[str, Any] | None = None
    for line in output.splitlines():
        if line.startswith(RESULT_PREFIX):
            try:
                parsed = json.loads(line[len(RESULT_PREFIX) :])
            except json.JSONDecodeError:
                continue
            found = parsed if isinstance(parsed, dict) else None
    return found
