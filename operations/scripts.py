"""Host scripts: files under ``operations/scripts/`` sent to hosts with their arguments as data."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

SCRIPTS_DIR = Path(__file__).resolve().parent / "scripts"
ARGUMENT_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,40}$")


def render(name: str, arguments: dict[str, str | int]) -> str:
    """The script ``name`` with its arguments exported first, each quoted as one shell word.

    The text contains the argument values (secrets included): send it to OOS and never store
    or log it; record ``name`` and ``redacted(arguments)`` instead.
    """
    body = (SCRIPTS_DIR / f"{name}.sh").read_text(encoding="utf-8")
    lines = ["#!/bin/bash"]
    for key, value in arguments.items():
        if not ARGUMENT_NAME.match(key):
            raise ValueError(f"bad script argument name {key!r}")
        text = str(value)
        if "\x00" in text:
            raise ValueError(f"script argument {key} contains a NUL character")
        lines.append(f"export NESTOPS_ARG_{key}={shlex.quote(text)}")
    return "\n".join(lines) + "\n" + body
