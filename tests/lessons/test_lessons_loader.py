"""``manage.py load_lessons``: idempotent, never overwrites an instructor's edit unless forced, refuses
files that fail their checks."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from lessons.content import CONTENT_DIR
from lessons.models import GlossaryEntry, Lesson
from lessons.services import lesson_load_from_files

pytestmark = pytest.mark.django_db

HANDSHAKE_EN = Path("en") / "02-three-way-handshake.md"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A private copy of the course to change."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


def _load(content: Path, *args: str) -> str:
    out = StringIO()
    call_command("load_lessons", "--content-dir", str(content), *args, stdout=out)
    return out.getvalue()


def test_loader_loads_every_lesson_and_term(content: Path) -> None:
    """Every lesson file (both languages) and every glossary entry becomes a row."""
    report = lesson_load_from_files(content_dir=content)
    files = list(content.glob("*/*.md"))
    assert Lesson.objects.count() == len(files) == len(report.created) - GlossaryEntry.objects.count()
    handshake = Lesson.objects.get(slug="three-way-handshake", lang="zh-hans")
    assert handshake.title == "三次握手"
    assert "t:SYN_SENT:rcv_syn_ack" in handshake.skills
    assert handshake.scenarios[0]["id"] == "handshake"
    assert handshake.source_path == "zh-hans/02-three-way-handshake.md"
    assert not handshake.is_edited
    assert GlossaryEntry.objects.filter(lang="zh-hans", term="半关闭").exists()


def test_loader_second_run_changes_nothing(content: Path) -> None:
    """Running twice leaves every row as it was and says so."""
    _load(content)
    before = list(Lesson.objects.order_by("pk").values_list("pk", "updated_at"))
    output = _load(content)
    assert "0 created, 0 updated" in output
    assert list(Lesson.objects.order_by("pk").values_list("pk", "updated_at")) == before


def test_loader_updates_a_changed_file(content: Path) -> None:
    """A file changed on disk updates its (unedited) row."""
    _load(content)
    path = content / HANDSHAKE_EN
    path.write_text(path.read_text(encoding="utf-8") + "\nA new closing line.\n", encoding="utf-8")
    output = _load(content)
    assert "1 updated" in output
    assert "A new closing line." in Lesson.objects.get(slug="three-way-handshake", lang="en").body_markdown


def test_loader_keeps_an_admin_edit(content: Path) -> None:
    """A lesson edited in the admin is skipped (and named) when its file changes too."""
    _load(content)
    lesson = Lesson.objects.get(slug="three-way-handshake", lang="en")
    lesson.body_markdown = "Edited by an instructor."
    lesson.save()
    assert Lesson.objects.get(pk=lesson.pk).is_edited
    path = content / HANDSHAKE_EN
    path.write_text(path.read_text(encoding="utf-8") + "\nChanged on disk.\n", encoding="utf-8")
    output = _load(content)
    assert "skipped three-way-handshake (en): edited in the admin" in output
    assert Lesson.objects.get(pk=lesson.pk).body_markdown == "Edited by an instructor."
    # And again: still kept, still said.
    assert "skipped three-way-handshake (en)" in _load(content)


def test_loader_force_overwrites_an_admin_edit(content: Path) -> None:
    """--force replaces the admin's edit with the file and says so."""
    _load(content)
    Lesson.objects.filter(slug="three-way-handshake", lang="en").update(title="Edited title")
    output = _load(content, "--force")
    assert "overwrote three-way-handshake (en)" in output
    lesson = Lesson.objects.get(slug="three-way-handshake", lang="en")
    assert lesson.title == "The three-way handshake"
    assert not lesson.is_edited


def test_loader_keeps_an_edited_glossary_entry(content: Path) -> None:
    """Glossary entries edited in the admin are kept as well."""
    _load(content)
    GlossaryEntry.objects.filter(key="half_close", lang="en").update(definition="Instructor's words.")
    output = _load(content)
    assert "kept glossary half_close (en)" in output
    assert GlossaryEntry.objects.get(key="half_close", lang="en").definition == "Instructor's words."


def test_loader_refuses_a_broken_file_and_loads_the_rest(content: Path) -> None:
    """A lesson whose scenario the engine rejects is not loaded; the command fails naming it."""
    path = content / HANDSHAKE_EN
    path.write_text(path.read_text(encoding="utf-8").replace("do: accept", "do: teleport"), encoding="utf-8")
    with pytest.raises(CommandError, match="1 problem"):
        _load(content)
    assert not Lesson.objects.filter(slug="three-way-handshake", lang="en").exists()
    assert Lesson.objects.filter(slug="three-way-handshake", lang="zh-hans").exists()


def test_loader_leaves_lessons_without_a_file(content: Path) -> None:
    """A lesson written in the admin (no file) is left alone and reported."""
    _load(content)
    Lesson.objects.create(slug="extra", lang="en", order=99, title="Extra", body_markdown="x")
    output = _load(content)
    assert "left extra (en): in the database but in no file" in output
    assert Lesson.objects.filter(slug="extra").exists()
