"""The lesson pages' own catalogue (lessons/locale): every string of templates/lessons and of the
lessons app is translated to Simplified Chinese, and the compiled catalogue is the one Django uses."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.translation.template import templatize

BASE = Path(settings.BASE_DIR)
PO = BASE / "lessons" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
TEMPLATES = sorted((BASE / "templates" / "lessons").glob("*.html"))
SOURCES = sorted((BASE / "lessons").rglob("*.py"))
_STR = r"u?('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
_CALL = re.compile(rf"\b(n?p?)gettext\({_STR}(?:,\s*{_STR})?")
_PY_CALL = re.compile(r"\b(?:_|gettext|gettext_lazy)\(\s*(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')")


def _catalogue(po: Path = PO) -> dict[str, list[str]]:
    """msgid (``context\x04msgid`` when it has a context) → its msgstr(s), read from a .po file."""
    found: dict[str, list[str]] = {}
    for block in po.read_text(encoding="utf-8").split("\n\n")[1:]:
        lines = "\n".join(line for line in block.splitlines() if not line.startswith("#"))
        context = ""
        if lines.startswith("msgctxt"):
            context_part, lines = lines.split("\nmsgid", 1)
            lines = "msgid" + lines
            context = (
                "".join(ast.literal_eval(s) for s in re.findall(r'"(?:[^"\\]|\\.)*"', context_part)) + "\x04"
            )
        head = lines.split("msgid_plural")[0].split("msgstr")[0]
        msgid = context + "".join(ast.literal_eval(s) for s in re.findall(r'"(?:[^"\\]|\\.)*"', head))
        parts = re.split(r"msgstr(?:\[\d\])? ", lines)[1:]
        found[msgid] = [
            "".join(ast.literal_eval(s) for s in re.findall(r'"(?:[^"\\]|\\.)*"', p)) for p in parts
        ]
    return found


def _template_messages() -> set[str]:
    messages: set[str] = set()
    for path in TEMPLATES:
        for kind, first, second in _CALL.findall(
            templatize(path.read_text(encoding="utf-8"), origin=str(path))
        ):
            if "p" in kind:  # pgettext(context, message)
                messages.add(f"{ast.literal_eval(first)}\x04{ast.literal_eval(second)}")
            else:
                messages.add(ast.literal_eval(first))
    return messages


def _python_messages() -> set[str]:
    messages: set[str] = set()
    for path in SOURCES:
        if "migrations" in path.parts:
            continue
        for literal in _PY_CALL.findall(path.read_text(encoding="utf-8")):
            messages.add(ast.literal_eval(literal))
    return messages


def test_lessons_i18n_every_string_in_the_catalogue() -> None:
    """Every translatable string of the lesson templates and the lessons app has a Chinese translation."""
    catalogue = _catalogue()
    wanted = _template_messages() | _python_messages()
    assert len(wanted) > 50
    missing = sorted(m for m in wanted if not all(catalogue.get(m) or [""]))
    assert missing == []


def test_lessons_i18n_no_fuzzy_or_empty() -> None:
    text = PO.read_text(encoding="utf-8")
    assert "#, fuzzy" not in text
    assert [m for m, strs in _catalogue().items() if not all(strs)] == []


def test_lessons_i18n_catalogue_compiles() -> None:
    """msgfmt --check accepts the catalogue (placeholders match in every translation)."""
    subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(PO)], check=True)


def test_lessons_i18n_catalogue_is_loaded() -> None:
    """Django finds the app's catalogue by itself (no LOCALE_PATHS entry needed)."""
    with translation.override("zh-hans"):
        assert translation.gettext("Practise this") == "练一练"
        assert translation.gettext("Step {n} of {total}") == "第 {n} 步，共 {total} 步"
        assert translation.pgettext("player step", "Next") == "下一步"


def test_lessons_i18n_site_catalogue_agrees() -> None:
    """Where the site's catalogue (locale/, which wins) has one of our messages, it says the same."""
    site = BASE / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    ours, theirs = _catalogue(), _catalogue(site)
    assert {m: (ours[m], theirs[m]) for m in set(ours) & set(theirs) if ours[m] != theirs[m]} == {}
