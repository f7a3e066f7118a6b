"""Every user-facing string has a Chinese translation, and the Chinese pages use it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
APPS = ("nestops", "instances", "operations", "billing")
TRANSLATION_FUNCTIONS = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy"}
# templatize() turns {% translate %} and {% blocktranslate %} into gettext(u'...') calls.
TEMPLATE_CALL = re.compile(r"""\bgettext\(u('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\)""")


def catalog() -> dict[str, str]:
    with CATALOG.open("rb") as handle:
        parsed = read_po(handle)
    return {m.id: m.string for m in parsed if m.id and not m.fuzzy}


def template_messages() -> set[tuple[str, str]]:
    found = set()
    for path in sorted((ROOT / "templates").rglob("*.html")):
        if path.name == "500.html":  # bilingual on purpose: it renders without a request
            continue
        code = templatize(path.read_text(encoding="utf-8"))
        for match in TEMPLATE_CALL.finditer(code):
            message = ast.literal_eval(match.group(1))
            found.add((str(path.relative_to(ROOT)), message))
    return found


def python_messages() -> set[tuple[str, str]]:
    found = set()
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in TRANSLATION_FUNCTIONS
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    found.add((str(path.relative_to(ROOT)), node.args[0].value))
    return found


def test_the_catalog_has_no_empty_or_fuzzy_translation() -> None:
    with CATALOG.open("rb") as handle:
        parsed = read_po(handle)
    untranslated = [m.id for m in parsed if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []


@pytest.mark.parametrize("source", ["templates", "python"])
def test_every_user_facing_string_is_translated(source: str) -> None:
    known = catalog()
    messages = template_messages() if source == "templates" else python_messages()
    assert messages, "no translatable strings were found: the extraction is broken"
    missing = sorted(
        f"{where}: {message!r}"
        for where, message in messages
        if message.replace("%", "%%") not in known and message not in known
    )
    assert missing == [], "run makemessages and translate:\n" + "\n".join(missing)


def test_a_translation_keeps_the_placeholders_of_its_original() -> None:
    placeholder = re.compile(r"%\([a-z_]+\)[sd]")
    for original, translated in catalog().items():
        assert sorted(placeholder.findall(original)) == sorted(placeholder.findall(translated)), (
            original
        )
