"""Print generated question variants as JSON lines: the public part plus key and explanation."""

from __future__ import annotations

import json
import random
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from questions.generators.base import LANGS, Difficulty
from questions.generators.registry import families, make_variant


class Command(BaseCommand):
    help = "Generate question variants of one family (or all) and print them as JSON lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--family", default="all", help="family name, or 'all'")
        parser.add_argument("--count", type=int, default=5)
        parser.add_argument("--seed", type=int, default=1, help="first seed; variants use seed, seed+1, ...")
        parser.add_argument("--lang", choices=LANGS, default="zh-hans")
        parser.add_argument("--difficulty", choices=[str(d) for d in Difficulty], default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        known = families()
        names = list(known) if options["family"] == "all" else [options["family"]]
        for name in names:
            if name not in known:
                raise CommandError(f"unknown family {name!r}; known: {', '.join(known)}")
        levels = list(Difficulty)
        pick = random.Random(options["seed"])
        for name in names:
            for offset in range(options["count"]):
                seed = options["seed"] + offset
                level = Difficulty(options["difficulty"]) if options["difficulty"] else pick.choice(levels)
                variant = make_variant(name, seed, level)
                self.stdout.write(json.dumps(variant.full(options["lang"]), ensure_ascii=False))
