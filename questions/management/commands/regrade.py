"""``manage.py regrade [--family F] [--dry-run] [--all]``: after an engine change, recompute the keys of
stored variants and grade their answers again, recording old and new scores (RegradeRecord)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from questions import services
from questions.engine import ENGINE_VERSION
from questions.generators.registry import families
from tcpquiz.errors import DomainError

# The score changes listed one by one; beyond that only their number is printed.
CHANGES_SHOWN = 50


class Command(BaseCommand):
    help = (
        "Recompute the keys of stored question variants made by an older engine and regrade their "
        "answers, recording old and new scores."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--family", default=None, help=f"one question family ({', '.join(families())})")
        parser.add_argument("--dry-run", action="store_true", help="compute and report; write nothing")
        parser.add_argument(
            "--all",
            action="store_true",
            dest="include_current",
            help=f"also variants already made by the current engine ({ENGINE_VERSION})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = services.answers_regrade(
                family=options["family"],
                dry_run=options["dry_run"],
                include_current=options["include_current"],
            )
        except DomainError as error:
            raise CommandError(error.message) from error
        verb = "would change" if summary.dry_run else "changed"
        self.stdout.write(
            f"engine {ENGINE_VERSION}{' (dry run: nothing written)' if summary.dry_run else ''}\n"
            f"variants recomputed: {summary.questions}  (key {verb}: {summary.keys_changed}, "
            f"not recomputable: {summary.errors})\n"
            f"answers regraded:    {summary.answers}  (score {verb}: {len(summary.changes)})"
        )
        for change in summary.changes[:CHANGES_SHOWN]:
            self.stdout.write(
                f"  answer {change.answer_id} ({change.family}): {change.old_score} -> {change.new_score}"
            )
        if len(summary.changes) > CHANGES_SHOWN:
            self.stdout.write(f"  ... and {len(summary.changes) - CHANGES_SHOWN} more")
