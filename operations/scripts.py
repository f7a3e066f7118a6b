"""Host scripts: files under ``operations/scripts/`` sent to hosts with their arguments as data."""

from __future__ import annotations

import ast
import base64
import functools
import gzip
import json
import re
import shlex
import zlib
from pathlib import Path
from typing import Any

from cloud.oos import MAX_SCRIPT_CHARS
from nestops import addresses

SCRIPTS_DIR = Path(__file__).resolve().parent / "scripts"
ARGUMENT_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,40}$")
# A script line "# nestops:include common.sh" is replaced by that file: OOS runs one script.
INCLUDE = re.compile(r"^# nestops:include ([a-z_]+\.sh)$", re.MULTILINE)
# A script line "# nestops:address-policy" becomes ``address_policy=...``: nestops/addresses.py
# packed, which the script runs with the host's python3 to check each URL where the host
# resolves it (one policy, the same code on the control plane and on hosts).
ADDRESS_POLICY = re.compile(r"^# nestops:address-policy$", re.MULTILINE)
# Comment lines and indentation are not sent: OOS takes 16 KB of script (no script has a
# quoted string spanning lines or a here-document).
COMMENT_LINE = re.compile(r"^[ \t]*#(?: .*)?\n", re.MULTILINE)
INDENTATION = re.compile(r"^[ \t]+", re.MULTILINE)
# The line a script prints last with what the control plane needs to know (JSON).
RESULT_PREFIX = "NESTOPS_RESULT "


@functools.cache
def packed_address_policy() -> str:
    """nestops/addresses.py without docstrings, comments and function annotations, compressed,
    in base64."""
    tree = ast.parse(Path(addresses.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
        if isinstance(node, ast.FunctionDef):
            node.returns = None
        if isinstance(node, ast.arg):
            node.annotation = None
    code = ast.unparse(tree).encode("utf-8")
    return base64.b64encode(zlib.compress(code, 9)).decode("ascii")


def source(name: str) -> str:
    """The script's text with its includes inlined and comment lines left out (no arguments)."""
    body = (SCRIPTS_DIR / f"{name}.sh").read_text(encoding="utf-8")
    body = INCLUDE.sub(lambda m: (SCRIPTS_DIR / m.group(1)).read_text(encoding="utf-8"), body)
    body = ADDRESS_POLICY.sub(lambda m: f"address_policy='{packed_address_policy()}'", body)
    return INDENTATION.sub("", COMMENT_LINE.sub("", body))


def render(name: str, arguments: dict[str, str | int]) -> str:
    """The script ``name`` with its arguments exported first, each quoted as one shell word.

    The text contains the argument values (secrets included): send it to OOS and never store
    or log it; record ``name`` and ``redacted(arguments)`` instead.
    """
    lines = ["#!/bin/bash"]
    for key, value in arguments.items():
        if not ARGUMENT_NAME.match(key):
            raise ValueError(f"bad script argument name {key!r}")
        text = str(value)
        if "\x00" in text:
            raise ValueError(f"script argument {key} contains a NUL character")
        lines.append(f"export NESTOPS_ARG_{key}={shlex.quote(text)}")
    body = source(name)
    plain = "\n".join(lines) + "\n" + body
    if len(plain) <= MAX_SCRIPT_CHARS:
        return plain
    # Too long for OOS as text (long arguments on the largest scripts): the body travels
    # gzip-compressed in base64 and the host's bash runs it with eval; the arguments stay
    # plain, quoted exports before it.
    packed = base64.b64encode(gzip.compress(body.encode("utf-8"), 9, mtime=0)).decode("ascii")
    return "\n".join(lines) + f"\neval \"$(printf '%s' '{packed}' | base64 -d | gzip -dc)\"\n"


def split_result(output: str) -> tuple[str, dict[str, Any] | None]:
    """(the output without its result line, the result) of a script's output.

    The last ``NESTOPS_RESULT {...}`` line wins; output that lost it to truncation, or holds
    no valid JSON there, has no result.
    """
    kept: list[str] = []
    result: dict[str, Any] | None = None
    for line in output.splitlines():
        if line.startswith(RESULT_PREFIX):
            try:
                parsed = json.loads(line[len(RESULT_PREFIX) :])
            except json.JSONDecodeError:
                parsed = None
            result = parsed if isinstance(parsed, dict) else None
        else:
            kept.append(line)
    return "\n".join(kept), result


def fold_repeats(output: str) -> str:
    """The output with runs of one repeated line said once, with how many times (curl prints
    its error once per retry)."""
    folded: list[str] = []
    count = 0
    for line in [*output.splitlines(), None]:
        if folded and line == folded[-1] and count:
            count += 1
            continue
        if count > 1:
            folded[-1] += f" ({count} times)"
        if line is not None:
            folded.append(line)
        count = 1
    return "\n".join(folded)
