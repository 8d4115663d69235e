"""``manage.py load_lessons``: load the course's lesson files and glossary into the database.

Safe to run again: unchanged rows are left alone, and a row an instructor edited in the admin is never
overwritten unless ``--force`` is given (the command says which rows it skipped).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lessons.content import CONTENT_DIR
from lessons.services import lesson_load_from_files


class Command(BaseCommand):
    help = "Load the lesson files and the glossary into the database (keeps instructors' edits)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="overwrite rows edited in the admin with the files' content"
        )
        parser.add_argument("--content-dir", type=Path, default=CONTENT_DIR, help="the course directory")

    def handle(self, *args: Any, **options: Any) -> None:
        content_dir: Path = options["content_dir"]
        if not content_dir.is_dir():
            raise CommandError(f"no course directory at {content_dir}")
        report = lesson_load_from_files(content_dir=content_dir, force=options["force"])
        for label in report.skipped:
            self.stdout.write(
                self.style.WARNING(
                    f"skipped {label}: edited in the admin since the last load (--force overwrites)"
                )
            )
        for label in report.kept:
            self.stdout.write(f"kept {label}: edited in the admin; its file has not changed")
        for label in report.overwritten:
            self.stdout.write(self.style.WARNING(f"overwrote {label}: its admin edit was replaced (--force)"))
        for label in report.orphans:
            self.stdout.write(f"left {label}: in the database but in no file")
        self.stdout.write(
            f"lessons and glossary: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.skipped) + len(report.kept)} kept as edited, "
            f"{len(report.overwritten)} overwritten"
        )
        if report.problems:
            for problem in report.problems:
                self.stderr.write(self.style.ERROR(problem))
            raise CommandError(
                f"{len(report.problems)} problem(s) in the course files; those files were not loaded"
            )
